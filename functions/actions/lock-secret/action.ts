import { defineAction, recorded, secretShown } from '../definition.js';

/**
 * Denies reading an exposed secret's value to everyone but the break-glass
 * principals (a resource policy statement); its rollback puts the policy back.
 */
export const action = defineAction({
  name: 'lock-secret',
  target: 'resource',
  blastRadius: (incident): string =>
    `only the break-glass principals can read secret ${secretShown(incident)} until the lock is removed: every application that reads it fails`,
  rollback: {
    label: 'Remove secret lock',
    restores({ before, targetArn }): string {
      const target = targetArn ?? '(unknown target)';
      return recorded(before, 'policy') === null
        ? `${target}: delete the lock's resource policy (it had none before)`
        : `${target}: put back its resource policy from before the lock`;
    },
  },
  breakGlass: true,
});
