import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { type LinearPlaybookProps, linearPlaybookDefinition } from './linear.js';

/** s3-exposure: with approval, turn on the bucket's public access block. */
export function s3ExposureDefinition(
  scope: Construct,
  props: Omit<LinearPlaybookProps, 'labels'>,
): sfn.IChainable {
  return linearPlaybookDefinition(scope, 's3-exposure', {
    ...props,
    labels: { blockPublicAccess: 'Block public access' },
  });
}
