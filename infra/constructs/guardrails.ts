import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  GUARDRAILS_PARTITION_KEY,
  GUARDRAILS_TTL_ATTRIBUTE,
} from '../../functions/shared/breaker.js';
import { deployRoleArn } from './ledger-table.js';
import { tableDeny } from './table-policy.js';

export interface GuardrailsProps {
  /** Name of the runtime mode parameter. */
  readonly runtimeModeParameterName: string;
  /**
   * The exact ARNs of the only roles that write the table: triage (window
   * counters and trips) and the responder API (resets, caller proofs).
   */
  readonly writers: readonly string[];
}

/** Item writes on the guardrails table: only its two writers may make them. */
export const GUARDRAILS_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
] as const;

/**
 * Changes to the table itself that only CloudFormation, as the stack's
 * execution role, may make (see the ledger table for why it is exempt).
 */
export const GUARDRAILS_DEPLOY_ONLY = [
  'dynamodb:DeleteTable',
  'dynamodb:UpdateTable',
  'dynamodb:UpdateTimeToLive',
  'dynamodb:PutResourcePolicy',
  'dynamodb:DeleteResourcePolicy',
] as const;

/**
 * The operators' controls: the runtime mode parameter (auto, approve-all,
 * dry-run, off; read by triage, changed without a deploy) and the table
 * holding the circuit breaker's state and per-window counters (and the
 * responder API's used caller proofs). The table's resource policy lets only
 * triage and the responder API write items, whatever IAM policies say: an
 * insider who may write DynamoDB cannot delete a trip to reset the breaker,
 * or a used caller proof to replay it.
 */
export class Guardrails extends Construct {
  readonly runtimeMode: ssm.StringParameter;
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: GuardrailsProps) {
    super(scope, id);
    this.runtimeMode = new ssm.StringParameter(this, 'RuntimeMode', {
      parameterName: props.runtimeModeParameterName,
      stringValue: 'auto',
      allowedPattern: '^(auto|approve-all|dry-run|off)$',
      description:
        'Cordon runtime mode: auto, approve-all (every auto step waits for approval), dry-run (record what would be done), off (record and notify only)',
    });
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: GUARDRAILS_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: GUARDRAILS_TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.DESTROY,
      resourcePolicy: new iam.PolicyDocument({
        statements: [
          tableDeny('OnlyTriageAndTheResponderApiWrite', GUARDRAILS_WRITES, props.writers),
          tableDeny('OnlyTheStackChangesTheTable', GUARDRAILS_DEPLOY_ONLY, deployRoleArn(this)),
        ],
      }),
    });
    Validations.of(this.table).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'Holds the circuit breaker state and expiring counters only; trips and resets are recorded in the ledger, which has point-in-time recovery',
    });
  }
}
