import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface TokenKeyProps {
  /** The responder API's role: the one principal that may decrypt a token. */
  readonly opener: iam.IRole;
}

/**
 * The key task tokens are sealed with in the approvals table
 * (functions/shared/token-seal.ts). Its policy keeps the account's usual
 * administration, denies `kms:Decrypt` to every principal but the responder
 * API's role (an explicit Deny in a key policy wins over any identity
 * policy or grant), and denies `kms:ReEncrypt*` to everyone (re-encrypting
 * under a key one controls is decrypting). request-approval's role may only
 * Encrypt. Where this stops: a principal allowed `kms:PutKeyPolicy`
 * (administrators) can rewrite the policy; CloudTrail records it.
 */
export class TokenKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: TokenKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Seals Cordon task tokens: only the responder API may decrypt one',
      enableKeyRotation: true,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheResponderApiOpensTokens',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': props.opener.roleArn } },
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NobodyReEncryptsTokens',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:ReEncryptFrom', 'kms:ReEncryptTo'],
        resources: ['*'],
      }),
    );
  }
}
