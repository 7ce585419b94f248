import { z } from '../../shared/z.js';
import { defineAction, recorded } from '../definition.js';

/** Each interface's original groups, as a restore line reads them from a recorded state. */
const RecordedInterfaces = z
  .array(
    z.object({
      networkInterfaceId: z.string(),
      originalGroups: z.array(z.string()).nullable(),
    }),
  )
  .catch([]);

/**
 * Isolates every network interface of the instance (allow-all group, then
 * no-traffic group); its rollback puts each back in its original groups.
 */
export const action = defineAction({
  name: 'isolate-network',
  target: 'resource',
  blastRadius: () =>
    'every network interface is isolated: all connections drop, legitimate ones too',
  rollback: {
    label: 'Restore network interfaces',
    restores: ({ before, targetArn }) =>
      `${targetArn ?? '(unknown target)'}: security groups per interface -> ${RecordedInterfaces.parse(
        recorded(before, 'interfaces'),
      )
        .map((i) => `${i.networkInterfaceId}: ${(i.originalGroups ?? ['unknown']).join(',')}`)
        .join('; ')}`,
  },
});
