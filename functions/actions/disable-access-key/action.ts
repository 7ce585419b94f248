import { quoted } from '../../shared/text.js';
import { defineAction, principalShown, recorded, shown } from '../definition.js';

/** Disables the one long-term access key a finding names; re-enabled by its rollback. */
export const action = defineAction({
  name: 'disable-access-key',
  target: 'principal',
  blastRadius: (incident) =>
    `access key ${quoted(incident.principal?.accessKeyId ?? '(none named)', 140)} of user ${principalShown(incident)} stops working for every application and person that uses it`,
  rollback: {
    label: 'Re-enable access key',
    restores: ({ before, after, targetArn }) =>
      `access key ${shown(recorded(before, 'accessKeyId'))} of ${targetArn ?? '(unknown target)'}: ${shown(recorded(after, 'status'))} -> ${shown(recorded(before, 'status'))}`,
  },
});
