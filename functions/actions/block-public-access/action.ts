import { quoted } from '../../shared/text.js';
import { defineAction, recorded, shown } from '../definition.js';

/**
 * Turns on all four public access block settings of a bucket; its rollback
 * puts the recorded block back, or deletes the block when it had none.
 */
export const action = defineAction({
  name: 'block-public-access',
  target: 'resource',
  blastRadius: (incident) =>
    `bucket ${quoted(incident.bucket?.name ?? '(none named)', 80)} can no longer be reached through public ACLs or policies; legitimate public uses (a website, public downloads) stop too`,
  rollback: {
    label: 'Restore public access block',
    restores: ({ before, targetArn }) => {
      const target = targetArn ?? '(unknown target)';
      return recorded(before, 'configuration') === null
        ? `${target}: delete the public access block (it had none before)`
        : `${target}: public access block -> ${shown(recorded(before, 'configuration'))}`;
    },
  },
});
