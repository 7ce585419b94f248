import type { Duration } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { PLAYBOOKS } from '../functions/shared/catalog.js';
import { playbookFrame } from './frame.js';
import { gatedStep } from './gated-step.js';
import type { PlaybookFunctions } from './tasks.js';

export interface Ec2InstanceProps {
  readonly functions: PlaybookFunctions;
  readonly approvalTimeout: Duration;
}

const STEPS = PLAYBOOKS['ec2-instance'].steps;

/**
 * ec2-instance: evidence first (auto: nothing the workload notices), then,
 * with one approval, isolation: out of its Auto Scaling group, every network
 * interface isolated in two steps, instance profile detached. Revoking the
 * instance role's older sessions is an approval of its own, because the role
 * may serve other instances.
 */
export function ec2InstanceDefinition(scope: Construct, props: Ec2InstanceProps): sfn.IChainable {
  const { functions, approvalTimeout } = props;
  return playbookFrame(scope, 'ec2-instance', functions, ({ finish, failure }) => {
    const common = { functions, approvalTimeout, failure };
    const revoke = gatedStep(scope, {
      ...common,
      step: 'revokeInstanceRoleSessions',
      label: 'Revoke instance role sessions',
      action: STEPS.revokeInstanceRoleSessions.action,
      next: finish,
    });
    const isolate = gatedStep(scope, {
      ...common,
      step: 'isolate',
      label: 'Isolate instance',
      action: STEPS.isolate.action,
      actionLabel: 'Leave Auto Scaling group',
      followedBy: [
        { ...STEPS.isolate.followedBy[0], label: 'Isolate network interfaces' },
        { ...STEPS.isolate.followedBy[1], label: 'Detach instance profile' },
      ],
      next: revoke,
    });
    return gatedStep(scope, {
      ...common,
      step: 'preserveEvidence',
      label: 'Preserve evidence',
      action: STEPS.preserveEvidence.action,
      next: isolate,
    });
  });
}
