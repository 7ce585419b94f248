import { defineAction, principalShown } from '../definition.js';

/**
 * Attaches AWS's deny-all managed policy (AWSDenyAll) to the user and
 * deletes its console login profile; its rollback detaches the policy (the
 * password stays deleted).
 */
export const action = defineAction({
  name: 'quarantine-user',
  target: 'principal',
  blastRadius: (incident): string =>
    `user ${principalShown(incident)} can make no AWS call at all and cannot sign in to the console; the console password is deleted and cannot be restored, only replaced`,
  rollback: {
    label: 'Lift user quarantine',
    restores: ({ targetArn }): string =>
      `${targetArn ?? '(unknown target)'}: remove the deny-all policy quarantine added (AWSDenyAll, or CordonQuarantine from an earlier version; the deleted console password is not restored)`,
  },
});
