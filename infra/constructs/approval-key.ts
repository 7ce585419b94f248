import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface ApprovalKeyProps {
  /** The responder API's role: the one principal that may make a MAC. */
  readonly signer: iam.IRole;
}

/**
 * The HMAC key of approval records (functions/shared/approval-record.ts).
 * Its policy keeps the account's usual administration, and denies
 * `kms:GenerateMac` to every principal but the responder API's role: an
 * explicit Deny in a key policy wins over any identity policy or grant, an
 * administrator's included, so a record that verifies was made by the
 * responder API. Verifying needs only `kms:VerifyMac`, granted by IAM to
 * the functions that check records. Where this stops: a principal allowed
 * `kms:PutKeyPolicy` (the account's administrators) can rewrite the policy;
 * CloudTrail records the change. HMAC keys cannot rotate.
 */
export class ApprovalKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: ApprovalKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'MACs Cordon approval records: only the responder API may make one',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      // Retained (the default), as the ledger is: the grants it holds stay verifiable.
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheResponderApiMakesApprovalRecords',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:GenerateMac'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': props.signer.roleArn } },
      }),
    );
  }
}
