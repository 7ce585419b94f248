import { defineAction, instanceShown, recorded, shown } from '../definition.js';

/**
 * Keeps the evidence of an instance without changing what the workload does:
 * incident tag, termination protection, stop on shutdown, kept and
 * snapshotted volumes, and protection from its Auto Scaling group's
 * scale-in. A rollback puts only the scale-in protection back.
 */
export const action = defineAction({
  name: 'preserve-evidence',
  target: 'resource',
  blastRadius: (incident) =>
    `instance ${instanceShown(incident)} keeps running; it can no longer be terminated by API, stops instead of terminating on shutdown, its volumes are kept and snapshotted, and, in an Auto Scaling group, the group's scale-in no longer picks it`,
  rollback: {
    label: 'Restore scale-in protection',
    restores: ({ before, targetArn }) => {
      const member = recorded(before, 'autoScaling');
      const setting = recorded(member, 'protectedFromScaleIn');
      const what =
        typeof setting === 'boolean'
          ? `scale-in protection back to ${setting ? 'on' : 'off'} in Auto Scaling group ${shown(recorded(member, 'group'))}`
          : 'nothing to restore (it was in no Auto Scaling group)';
      return `${targetArn ?? '(unknown target)'}: ${what}; the evidence is kept on purpose (incident tag, termination protection, kept volumes, snapshots stay)`;
    },
  },
});
