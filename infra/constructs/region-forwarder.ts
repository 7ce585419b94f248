import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CORDON_ROLE_PATH } from '../../functions/shared/runtime-config.js';
import { SECURITYHUB_V2_DETAIL_TYPE } from '../../functions/triage/parse/schemas/ocsf.js';
import { REGION_NAME } from '../config.js';
import { deadLetterQueue } from './dead-letter-queue.js';

export interface CordonRegionForwarderProps {
  /** The hub's region: its default event bus, in this account, receives what this region's bus forwards. */
  readonly hubRegion: string;
  /**
   * Forward Security Hub findings too. Leave it off where Security Hub's
   * cross-Region aggregation brings this region's findings to the hub's
   * region (the usual setup): they would arrive twice. See README,
   * Organization-wide, Regions, for what the hub does with a Security Hub
   * finding from a region that does not aggregate.
   * @default false: GuardDuty findings only
   */
  readonly forwardSecurityHub?: boolean;
}

/** GuardDuty's findings, as the hub's rules match them (infra/constructs/triggers.ts). */
export const GUARDDUTY_FINDINGS: events.EventPattern = {
  source: ['aws.guardduty'],
  detailType: ['GuardDuty Finding'],
};

/** Security Hub's findings, in both forms the hub's rules match (ASFF and OCSF). */
export const SECURITYHUB_FINDINGS: events.EventPattern = {
  source: ['aws.securityhub'],
  detailType: ['Security Hub Findings - Imported', SECURITYHUB_V2_DETAIL_TYPE],
};

/**
 * Organization-wide, in the hub account, in a region other than the hub's:
 * a rule on this region's default event bus that forwards the findings
 * published here (GuardDuty, as delegated administrator, publishes its
 * members' findings in the region where they occur, and has no cross-Region
 * aggregation) to the hub region's default event bus, where the playbooks'
 * rules match them. The event arrives as it left: its `region` and
 * `account` are the original ones.
 *
 * The rule's role may put events on that one bus and nothing else.
 * EventBridge takes no retry policy for an event bus target; what it cannot
 * deliver after its own retries lands in an encrypted dead-letter queue,
 * with an alarm. EventBridge does not route an event that arrived from
 * another bus on to a third, so the hub cannot send a forwarded finding
 * back.
 */
export class CordonRegionForwarder extends Construct {
  /** The rules forwarding findings: GuardDuty's, and Security Hub's when asked. */
  readonly rules: readonly events.Rule[];
  /** The role EventBridge puts events on the hub's bus with. */
  readonly role: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  /** A dead letter means a finding that never reached the hub. */
  readonly deadLetterAlarm: cloudwatch.Alarm;
  /** The hub region's default event bus. */
  readonly hubBusArn: string;

  constructor(scope: Construct, id: string, props: CordonRegionForwarderProps) {
    super(scope, id);
    const stack = Stack.of(this);
    checkRegions(stack.region, props.hubRegion);
    this.hubBusArn = stack.formatArn({
      service: 'events',
      region: props.hubRegion,
      resource: 'event-bus',
      resourceName: 'default',
    });
    const hubBus = events.EventBus.fromEventBusArn(this, 'HubBus', this.hubBusArn);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      path: CORDON_ROLE_PATH,
      description: `Forwards findings from ${stack.region} to Cordon's event bus in ${props.hubRegion}`,
    });
    this.deadLetterQueue = deadLetterQueue(this, 'the rules');
    const patterns: [string, string, events.EventPattern][] = [
      ['GuardDutyRule', 'GuardDuty findings', GUARDDUTY_FINDINGS],
      ...(props.forwardSecurityHub
        ? [
            ['SecurityHubRule', 'Security Hub findings', SECURITYHUB_FINDINGS] as [
              string,
              string,
              events.EventPattern,
            ],
          ]
        : []),
    ];
    this.rules = patterns.map(([ruleId, what, eventPattern]) => {
      const rule = new events.Rule(this, ruleId, {
        description: `Cordon: ${what} from ${stack.region} to the hub's event bus in ${props.hubRegion}`,
        eventPattern,
      });
      // The target adds to the role events:PutEvents on this bus, its only grant.
      rule.addTarget(
        new targets.EventBus(hubBus, { role: this.role, deadLetterQueue: this.deadLetterQueue }),
      );
      return rule;
    });
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Max',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Cordon: a finding from ${stack.region} did not reach the hub's event bus in ${props.hubRegion} (dead-letter queue)`,
    });
  }
}

/**
 * Both regions written out, and different: a forwarder in the hub's own
 * region would send each finding to the bus it came from, where the
 * playbooks' rules have already matched it.
 */
function checkRegions(region: string, hubRegion: string): void {
  if (Token.isUnresolved(region)) {
    throw new Error(
      "CordonRegionForwarder needs its stack's region at synthesis (env: { region }): a rule forwards from one region",
    );
  }
  if (Token.isUnresolved(hubRegion) || !REGION_NAME.test(hubRegion)) {
    throw new Error(
      `CordonRegionForwarder hubRegion: ${hubRegion} is not a region name such as eu-west-1`,
    );
  }
  if (region === hubRegion) {
    throw new Error(
      `CordonRegionForwarder in ${region}, the hub's own region: the hub's rules already see its findings there; deploy forwarders only in the other regions`,
    );
  }
}
