import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  GUARDRAILS_PARTITION_KEY,
  GUARDRAILS_TTL_ATTRIBUTE,
} from '../../functions/shared/breaker.js';

export interface GuardrailsProps {
  /** Name of the runtime mode parameter. */
  readonly runtimeModeParameterName: string;
}

/**
 * The operators' controls: the runtime mode parameter (auto, approve-all,
 * dry-run, off; read by triage, changed without a deploy) and the table
 * holding the circuit breaker's state and per-window counters.
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
    });
    Validations.of(this.table).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'Holds the circuit breaker state and expiring counters only; trips and resets are recorded in the ledger, which has point-in-time recovery',
    });
  }
}
