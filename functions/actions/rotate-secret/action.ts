import { defineAction, secretShown } from '../definition.js';
import { iam } from './iam.js';

/** Rotates an exposed secret with its configured rotation; a rotation cannot be undone. */
export const action = defineAction({
  name: 'rotate-secret',
  target: 'resource',
  blastRadius: (incident): string =>
    `secret ${secretShown(incident)} gets a new value now; every application that reads it must pick up the new version, and any that cached the old value fail until they do`,
  iam: iam.containment,
  rollback: {
    notRolledBack:
      'a rotation cannot be undone: the previous value is retired at its back end; nothing is restored',
  },
  timeoutSeconds: 60,
});
