import { quoted } from '../../shared/text.js';
import { defineAction, FIELD_MAX, recorded, shown } from '../definition.js';

/** Disassociates the instance's profile; associated again by its rollback. */
export const action = defineAction({
  name: 'detach-instance-profile',
  target: 'resource',
  blastRadius: (incident) => {
    const profileArn = incident.instance?.instanceProfileArn;
    return profileArn
      ? `instance profile ${quoted(profileArn, FIELD_MAX)} is detached`
      : 'it has no instance profile';
  },
  rollback: {
    label: 'Re-associate instance profile',
    restores: ({ before, targetArn }) =>
      `${targetArn ?? '(unknown target)'}: associate instance profile ${shown(recorded(recorded(before, 'association'), 'profileArn'))}`,
  },
});
