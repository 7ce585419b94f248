import { quoted } from '../../shared/text.js';
import { defineAction, instanceShown, recorded, shown } from '../definition.js';
import { iam } from './iam.js';

/** Takes the instance out of its Auto Scaling group; attached back by its rollback. */
export const action = defineAction({
  name: 'detach-from-asg',
  target: 'resource',
  blastRadius: (incident) => {
    const group = incident.instance?.autoScalingGroup;
    return group
      ? `instance ${instanceShown(incident)} leaves Auto Scaling group ${quoted(group, 256)} (its desired capacity drops by one; no replacement is launched)`
      : `instance ${instanceShown(incident)} is in no Auto Scaling group`;
  },
  iam: iam.containment,
  rollback: {
    label: 'Return to Auto Scaling group',
    restores: ({ before, targetArn }) =>
      `${targetArn ?? '(unknown target)'}: back into Auto Scaling group ${shown(recorded(before, 'group'))} (desired capacity +1)`,
    iam: iam.rollback,
  },
});
