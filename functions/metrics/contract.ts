/** What the metrics function emits, as the dashboard (infra) reads it. */

export const METRICS_NAMESPACE = 'Cordon';
/** The metrics' `service` dimension: the stack's name, set by infra. */
export const METRICS_SERVICE_ENV = 'POWERTOOLS_SERVICE_NAME';

/** Each metric's name, as the dashboard reads it. */
export const METRIC = {
  stepOutcome: 'StepOutcome',
  refused: 'Refused',
  approvalDecided: 'ApprovalDecided',
  approvalWait: 'ApprovalWait',
  breakerTripped: 'BreakerTripped',
  rollback: 'Rollback',
  timeToContain: 'TimeToContain',
  approvalsWaiting: 'ApprovalsWaiting',
} as const;

/** The two starting points of time to contain (the TimeToContain metric's `From` dimension). */
export const CONTAIN_FROM = { findingCreated: 'FindingCreated', eventArrival: 'EventArrival' };
