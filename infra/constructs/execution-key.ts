import { Lazy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** The stack output naming the key, for the readers' own policies. */
export const EXECUTION_KEY_OUTPUT = 'ExecutionKeyArn';

/** What Step Functions calls KMS for with a customer managed key, on the caller's behalf. */
export const EXECUTION_DATA_CALLS = ['kms:Decrypt', 'kms:GenerateDataKey'] as const;

/** The encryption context key Step Functions sets on a state machine's data. */
export const STATE_MACHINE_CONTEXT = 'kms:EncryptionContext:aws:states:stateMachineArn';

export interface ExecutionKeyProps {
  /**
   * Every principal that may use the key: the state machines' roles, the
   * roles that start, answer or read their executions, the stack's
   * deploy role and the configured readers. Read at synthesis, once every
   * role exists.
   */
  readonly users: () => string[];
}

/**
 * The customer managed key the state machines encrypt their definitions
 * and execution data with (inputs, outputs, task parameters: the task
 * tokens of waiting approvals among them). Step Functions makes each
 * caller's KMS call with the caller's own credentials: starting an
 * execution needs `kms:GenerateDataKey` and `kms:Decrypt`, reading its
 * history or status `kms:Decrypt`. The key policy keeps the account's usual
 * administration and denies both calls to every principal not in `users`
 * (an explicit Deny in a key policy wins over any identity policy or
 * grant), so `states:GetExecutionHistory` from ReadOnlyAccess, or from an
 * administrator, returns no execution data. AWS services calling as
 * themselves (CloudWatch Logs delivering the state machines' logs) are not
 * denied; they are allowed only what a statement names. Where this stops:
 * a principal allowed `kms:PutKeyPolicy` (administrators) can rewrite the
 * policy, which CloudTrail records.
 */
export class ExecutionKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: ExecutionKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: "Encrypts Cordon's state machines and their execution data",
      enableKeyRotation: true,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyCordonUsesExecutionData',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...EXECUTION_DATA_CALLS],
        resources: ['*'],
        conditions: {
          ArnNotEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => props.users() }) },
          Bool: { 'aws:PrincipalIsAWSService': 'false' },
        },
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NobodyReEncryptsExecutionData',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:ReEncryptFrom', 'kms:ReEncryptTo'],
        resources: ['*'],
      }),
    );
  }
}
