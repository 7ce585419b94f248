import { defineAction, instanceShown } from '../definition.js';
import { iam } from './iam.js';

/**
 * Keeps the evidence of an instance without changing what the workload does:
 * incident tag, termination protection, stop on shutdown, kept and
 * snapshotted volumes. Left in place by a rollback.
 */
export const action = defineAction({
  name: 'preserve-evidence',
  target: 'resource',
  blastRadius: (incident) =>
    `instance ${instanceShown(incident)} keeps running; it can no longer be terminated by API, stops instead of terminating on shutdown, and its volumes are kept and snapshotted`,
  iam: iam.containment,
  rollback: {
    notRolledBack:
      'evidence is kept on purpose: the incident tag, termination protection, kept volumes and snapshots stay',
  },
});
