import type { Duration } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { type PlaybookName, stepsOf } from '../functions/shared/catalog.js';
import { playbookFrame } from './frame.js';
import { gatedStep } from './gated-step.js';
import type { PlaybookFunctions } from './tasks.js';

export interface LinearPlaybookProps {
  readonly functions: PlaybookFunctions;
  readonly approvalTimeout: Duration;
  /** State names: one per step id, and one per follow-on action key. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * A playbook whose steps run one after the other, in catalog order, each
 * behind its own mode gate (triage turns off the steps that do not apply).
 */
export function linearPlaybookDefinition(
  scope: Construct,
  playbook: PlaybookName,
  props: LinearPlaybookProps,
): sfn.IChainable {
  const { functions, approvalTimeout, labels } = props;
  const label = (key: string) => {
    const name = labels[key];
    if (!name) throw new Error(`playbook ${playbook}: no state name for ${key}`);
    return name;
  };
  return playbookFrame(scope, playbook, functions, ({ finish, failure }) => {
    const steps = Object.entries(stepsOf(playbook));
    return steps.reduceRight<sfn.IChainable>(
      (next, [step, spec]) =>
        gatedStep(scope, {
          step,
          label: label(step),
          action: spec.action,
          functions,
          approvalTimeout,
          next,
          failure,
          ...(spec.followedBy
            ? { followedBy: spec.followedBy.map((f) => ({ ...f, label: label(f.key) })) }
            : {}),
        }),
      finish,
    );
  });
}
