import { defineAction, instanceShown, principalShown, recorded, shown } from '../definition.js';

/**
 * Denies the principal's sessions issued before now (an inline deny policy
 * on the user or role); removed, or its older cutoff put back, by its rollback.
 */
export const action = defineAction({
  name: 'revoke-sessions',
  target: 'principal',
  blastRadius(incident): string {
    const { principal, instance } = incident;
    const who = principalShown(incident);
    if (instance) {
      const others = instance.profileSharedWith ?? 0;
      return `denies every session of role ${who} issued before now: on instance ${instanceShown(incident)} and on ${others} other instance${others === 1 ? '' : 's'} using the same instance profile, whose running applications lose their credentials until they are refreshed`;
    }
    return principal?.kind === 'AssumedRole'
      ? `denies every session of role ${who} issued before now, including those of legitimate users of the role; they must assume the role again`
      : `denies every temporary credential of user ${who} issued before now; long-term keys are not affected`;
  },
  rollback: {
    label: 'Remove session revocation',
    restores({ before, after, targetArn }): string {
      const target = targetArn ?? '(unknown target)';
      const cutoff = recorded(before, 'revokedBefore');
      return cutoff === null || cutoff === undefined
        ? `${target}: remove inline deny policy CordonRevokeOlderSessions (sessions issued before ${shown(recorded(after, 'revokedBefore'))} work again)`
        : `${target}: CordonRevokeOlderSessions cutoff ${shown(recorded(after, 'revokedBefore'))} -> ${shown(cutoff)}`;
    },
  },
});
