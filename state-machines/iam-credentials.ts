import type { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { PLAYBOOKS } from '../functions/shared/catalog.js';
import { playbookFrame } from './frame.js';
import { gatedStep } from './gated-step.js';
import type { PlaybookFunctions } from './tasks.js';

export interface IamCredentialsProps {
  readonly functions: PlaybookFunctions;
  readonly approvalTimeout: Duration;
}

const STEPS = PLAYBOOKS['iam-credentials'].steps;

/**
 * iam-credentials: an IAM user's long-term key is disabled, then the user's
 * older sessions are revoked, then (with approval) the user is quarantined.
 * An assumed role's older sessions are revoked (with approval: every session
 * of the role is hit). Root: notify only; IAM cannot restrict root.
 */
export function iamCredentialsDefinition(
  scope: Construct,
  props: IamCredentialsProps,
): sfn.IChainable {
  const { functions, approvalTimeout } = props;
  return playbookFrame(scope, 'iam-credentials', functions, ({ finish, failure }) => {
    const step = (id: keyof typeof STEPS, next: sfn.IChainable) =>
      gatedStep(scope, { step: id, spec: STEPS[id], functions, approvalTimeout, next, failure });

    const quarantine = step('quarantineUser', finish);
    const revokeUser = step('revokeUserSessions', quarantine);
    const disableKey = step('disableAccessKey', revokeUser);
    const revokeRole = step('revokeRoleSessions', finish);

    return new sfn.Choice(scope, 'Principal kind?')
      .when(sfn.Condition.stringEquals('$.incident.principal.kind', 'IAMUser'), disableKey)
      .when(sfn.Condition.stringEquals('$.incident.principal.kind', 'AssumedRole'), revokeRole)
      .otherwise(finish);
  });
}
