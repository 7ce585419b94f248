import { DefaultStackSynthesizer, Fn, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  LEDGER_PARTITION_KEY,
  LEDGER_SORT_KEY,
  LEDGER_TARGET_INDEX,
} from '../../functions/shared/ledger.js';
import { tableDeny } from './table-policy.js';

export interface LedgerTableProps {
  /**
   * The exact ARNs of Cordon's function roles: the only principals that may
   * generate the ledger key's MACs or put items in the table. Read at
   * synthesis, after every role exists.
   */
  readonly writers: () => string[];
}

/**
 * Writes no principal may make on the ledger table, whatever its IAM
 * policies allow: an entry is never changed or removed, and the table is
 * never dropped or stripped of its protections.
 */
export const LEDGER_DENIED_WRITES = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
  'dynamodb:DeleteTable',
  'dynamodb:UpdateTimeToLive',
] as const;

/**
 * Changes to the table's policy and settings that only CloudFormation, as
 * the stack's execution role, may make: a Deny of these to everyone would
 * lock the stack out (DynamoDB refuses a policy that denies its own
 * management unless the caller confirms it, which CloudFormation cannot).
 * UpdateTable is among them because it can turn the stream off, which would
 * stop the anchors.
 */
export const LEDGER_DEPLOY_ONLY = [
  'dynamodb:PutResourcePolicy',
  'dynamodb:DeleteResourcePolicy',
  'dynamodb:UpdateTable',
] as const;

/**
 * The append-only audit ledger: every write is a conditional put on a new
 * key. Point-in-time recovery and deletion protection on, retained when the
 * stack is deleted, no TTL. Its resource policy holds for every principal,
 * admins included: no UpdateItem, DeleteItem, BatchWriteItem or PartiQL
 * write, no DeleteTable or UpdateTimeToLive, PutItem only for Cordon's
 * function roles, and the policy and table settings changed only by the
 * CloudFormation execution role. Every entry carries a MAC from the ledger
 * key, an HMAC key whose policy denies GenerateMac to every principal but
 * Cordon's function roles; the stream (new and old images) feeds the
 * anchors (infra/constructs/ledger-anchors.ts).
 */
export class LedgerTable extends Construct {
  readonly table: dynamodb.TableV2;
  /** The ledger's HMAC key: GenerateMac for Cordon's roles only, VerifyMac through IAM. */
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: LedgerTableProps) {
    super(scope, id);
    const writers = Lazy.list({ produce: () => props.writers() });
    this.key = new kms.Key(this, 'Key', {
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      description: "Cordon ledger: MACs of ledger entries (GenerateMac for Cordon's roles only)",
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The key policy's default statement lets the account's IAM policies use
    // the key, so auditors can be granted VerifyMac; this Deny wins over any
    // Allow, an administrator's included, for GenerateMac.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyCordonRolesGenerateMacs',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:GenerateMac'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': writers } },
      }),
    );

    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: LEDGER_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LEDGER_SORT_KEY, type: dynamodb.AttributeType.NUMBER },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      globalSecondaryIndexes: [
        {
          indexName: LEDGER_TARGET_INDEX,
          partitionKey: { name: 'targetArn', type: dynamodb.AttributeType.STRING },
          sortKey: { name: 'at', type: dynamodb.AttributeType.STRING },
        },
      ],
      resourcePolicy: ledgerPolicy(writers, deployRoleArn(this)),
    });
  }

  /**
   * Lets a function append entries: PutItem (always conditional in code) and
   * Query on the base table, to find the latest entry it chains onto; and
   * GenerateMac and VerifyMac with the ledger key, to seal what it appends
   * and check what it reads.
   */
  grantAppend(grantee: iam.IGrantable): iam.Grant {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:GenerateMac', 'kms:VerifyMac'],
      resourceArns: [this.key.keyArn],
    });
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:PutItem', 'dynamodb:Query'],
      resourceArns: [this.table.tableArn],
    });
  }
}

/**
 * The CloudFormation execution role of the default synthesizer, by exact
 * ARN (a pattern would match a role any administrator could create under
 * that name). A stack with another synthesizer must say which role deploys
 * it, so synthesis fails rather than guess.
 */
export function deployRoleArn(scope: Construct): string {
  const synthesizer = Stack.of(scope).synthesizer;
  if (synthesizer instanceof DefaultStackSynthesizer) {
    // It holds `${AWS::Partition}`-style placeholders, which only Fn::Sub resolves.
    return Fn.sub(synthesizer.cloudFormationExecutionRoleArn);
  }
  throw new Error(
    `the resource policies of the ledger and guardrails tables exempt the CloudFormation execution role by exact ARN; ${synthesizer.constructor.name} is not a DefaultStackSynthesizer: deploy Cordon with the default synthesizer`,
  );
}

/** The ledger table's resource policy. */
function ledgerPolicy(writers: string[], deployRole: string): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      tableDeny('NoEntryIsChangedOrRemoved', LEDGER_DENIED_WRITES),
      tableDeny('OnlyCordonRolesAppend', ['dynamodb:PutItem'], writers),
      tableDeny('OnlyTheStackChangesTheTable', LEDGER_DEPLOY_ONLY, deployRole),
    ],
  });
}
