import type { Duration } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { type PlaybookName, SEQUENCE } from '../functions/shared/catalog.js';
import { playbookFrame } from './frame.js';
import { stepChain } from './gated-step.js';
import { sequenceDefinition } from './sequence.js';
import type { PlaybookFunctions } from './tasks.js';

export interface PlaybookDefinitionProps {
  readonly functions: PlaybookFunctions;
  readonly approvalTimeout: Duration;
}

/**
 * A playbook's states: its frame (triage, finding updates, notices, the
 * failure path) around its steps, which run one after the other in catalog
 * order, each behind its own mode gate. Which steps act is triage's plan
 * alone: a step that does not apply to what the finding names (a role has
 * no access key to disable) is `off` in the plan, and passes. A step the
 * plan marks as another's fallback runs only when that one failed.
 */
export function playbookDefinition(
  scope: Construct,
  playbook: PlaybookName,
  props: PlaybookDefinitionProps,
): sfn.IChainable {
  if (playbook === SEQUENCE.playbook) return sequenceDefinition(scope, props);
  return playbookFrame(scope, playbook, props.functions, ({ finish, failure }) =>
    stepChain(scope, playbook, { ...props, next: finish, failure }),
  );
}
