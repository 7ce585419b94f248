import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { type LinearPlaybookProps, linearPlaybookDefinition } from './linear.js';

/**
 * integration-quarantine: stop the function (reserved concurrency 0), then
 * revoke its execution role's older sessions: each asks for approval by
 * default, the second because the role may serve other functions.
 */
export function integrationQuarantineDefinition(
  scope: Construct,
  props: Omit<LinearPlaybookProps, 'labels'>,
): sfn.IChainable {
  return linearPlaybookDefinition(scope, 'integration-quarantine', {
    ...props,
    labels: {
      stopInvocations: 'Stop invocations',
      revokeFunctionRoleSessions: 'Revoke function role sessions',
    },
  });
}
