import { type ActionIam, allow, type IamContext } from '../../shared/iam.js';

/** S3 bucket ARNs carry no account: the condition keeps every call in this one. */
const inThisAccount = (ctx: IamContext) => ({
  StringEquals: { 's3:ResourceAccount': ctx.account },
});

/**
 * The bucket-level public access block of this account's buckets: read and
 * set, then put back or deleted by the rollback.
 */
export const iam = {
  containment: {
    statements: (ctx) => [
      // The SDK's Get/PutPublicAccessBlock are authorised as these bucket actions.
      allow(
        ['s3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
        [ctx.arn.buckets()],
        inThisAccount(ctx),
      ),
    ],
  },
  rollback: {
    statements: (ctx) => [
      // DeletePublicAccessBlock is authorised as s3:PutBucketPublicAccessBlock.
      allow(
        ['s3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
        [ctx.arn.buckets()],
        inThisAccount(ctx),
      ),
    ],
  },
} satisfies ActionIam;
