import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { type LinearPlaybookProps, linearPlaybookDefinition } from './linear.js';

/**
 * secret-exposure: rotate the secret now when rotation is configured,
 * otherwise lock it against reads (except break-glass principals) and say
 * that it must be rotated by hand. Triage turns off the step that does not
 * apply; both ask for approval by default.
 */
export function secretExposureDefinition(
  scope: Construct,
  props: Omit<LinearPlaybookProps, 'labels'>,
): sfn.IChainable {
  return linearPlaybookDefinition(scope, 'secret-exposure', {
    ...props,
    labels: { rotateSecret: 'Rotate secret', lockSecret: 'Lock secret' },
  });
}
