import { defineAction, secretShown } from '../definition.js';

/**
 * Rotates an exposed secret with its configured rotation until the exposed
 * version is neither AWSCURRENT nor AWSPREVIOUS; a rotation cannot be undone.
 */
export const action = defineAction({
  name: 'rotate-secret',
  target: 'resource',
  blastRadius: (incident): string =>
    `secret ${secretShown(incident)} is rotated now, twice when needed (until the exposed version is neither AWSCURRENT nor AWSPREVIOUS); every application that reads it must pick up the new version, and any that cached an old value fail until they do`,
  rollback: {
    notRolledBack:
      'a rotation cannot be undone: the previous value is retired at its back end; nothing is restored',
  },
});
