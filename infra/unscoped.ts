import { UNSCOPED as approval } from '../functions/approval/iam.js';
import { UNSCOPED as detachFromAsg } from '../functions/detach-from-asg/iam.js';
import { UNSCOPED as detachInstanceProfile } from '../functions/detach-instance-profile/iam.js';
import { UNSCOPED as isolateNetwork } from '../functions/isolate-network/iam.js';
import { UNSCOPED as preserveEvidence } from '../functions/preserve-evidence/iam.js';
import { UNSCOPED as rollbackAsgDetach } from '../functions/rollback-asg-detach/iam.js';
import { UNSCOPED as rollbackInstanceProfile } from '../functions/rollback-instance-profile/iam.js';
import { UNSCOPED as rollbackNetworkIsolation } from '../functions/rollback-network-isolation/iam.js';
import type { ActionName } from '../functions/shared/catalog.js';
import { BASELINE_UNSCOPED } from '../functions/shared/iam-baseline.js';
import { UNSCOPED as triage } from '../functions/triage/iam.js';

/**
 * The `Resource: "*"` exceptions as the manifests declare them
 * (`UNSCOPED` in functions/<action>/iam.ts), for the infra: a grant on "*"
 * that its function's manifest does not declare fails the synthesis, and
 * each role's cdk-nag acknowledgement quotes the declared reasons.
 */
const DECLARED: Partial<Record<ActionName, Readonly<Record<string, string>>>> = {
  approval,
  'detach-from-asg': detachFromAsg,
  'detach-instance-profile': detachInstanceProfile,
  'isolate-network': isolateNetwork,
  'preserve-evidence': preserveEvidence,
  'rollback-asg-detach': rollbackAsgDetach,
  'rollback-instance-profile': rollbackInstanceProfile,
  'rollback-network-isolation': rollbackNetworkIsolation,
  triage,
};

/** The calls a function's manifest grants on "*", with why (the baseline's tracing not included). */
export function declaredUnscoped(action: ActionName): Readonly<Record<string, string>> {
  return DECLARED[action] ?? {};
}

/**
 * The cdk-nag acknowledgement of a role's `Resource: "*"`: every call it
 * holds there (its manifest's and the baseline's tracing), grouped by reason.
 */
export function unscopedReason(action: ActionName): string {
  const byReason = new Map<string, string[]>();
  for (const [call, why] of Object.entries({ ...declaredUnscoped(action), ...BASELINE_UNSCOPED })) {
    byReason.set(why, [...(byReason.get(why) ?? []), call]);
  }
  const calls = [...byReason].map(([why, names]) => `${names.join(', ')}: ${why}`);
  return `Resource "*" only for calls IAM scopes to nothing narrower (functions/${action}/iam.ts): ${calls.join('; ')}`;
}
