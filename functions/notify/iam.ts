import { ENCRYPTED_PUBLISH, type IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions notify's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 */
export const IAM_ACTIONS = [
  // Publish to the KMS-encrypted notification topic.
  ...ENCRYPTED_PUBLISH,
] as const satisfies readonly IamAction[];
