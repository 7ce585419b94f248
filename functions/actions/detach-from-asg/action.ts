import { quoted } from '../../shared/text.js';
import { defineAction, instanceShown, recorded, shown } from '../definition.js';

/** It left a group at its minimum size: without a decrement, so the group launched a replacement. */
function leftAtMinimum(before: unknown): boolean {
  const desired = recorded(before, 'desiredCapacity');
  const min = recorded(before, 'minSize');
  return typeof desired === 'number' && typeof min === 'number' && desired - 1 < min;
}

function protectionRestored(value: unknown): string {
  return typeof value === 'boolean' ? `; scale-in protection ${value ? 'on' : 'off'}` : '';
}

/** Takes the instance out of its Auto Scaling group; attached back by its rollback. */
export const action = defineAction({
  name: 'detach-from-asg',
  target: 'resource',
  blastRadius: (incident) => {
    const group = incident.instance?.autoScalingGroup;
    return group
      ? `instance ${instanceShown(incident)} leaves Auto Scaling group ${quoted(group, 256)}: its desired capacity drops by one, or, if the group is at its minimum size, stays and the group launches a replacement instance`
      : `instance ${instanceShown(incident)} is in no Auto Scaling group`;
  },
  rollback: {
    label: 'Return to Auto Scaling group',
    restores: ({ before, targetArn }) =>
      `${targetArn ?? '(unknown target)'}: back into Auto Scaling group ${shown(recorded(before, 'group'))} (desired capacity +1${
        leftAtMinimum(before)
          ? ': the replacement the group launched when it left stays, so the group has one instance more than before'
          : ''
      }${protectionRestored(recorded(before, 'protectedFromScaleIn'))})`,
  },
});
