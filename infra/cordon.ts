import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { type ActionName, byAction, PLAYBOOK_NAMES } from '../functions/shared/catalog.js';
import { CORDON_ROLE_PATH, ENV, type RuntimeConfig } from '../functions/shared/runtime-config.js';
import { iamCredentialsDefinition } from '../state-machines/iam-credentials.js';
import type { PlaybookFunctions } from '../state-machines/tasks.js';
import { type CordonConfig, modesFor } from './config.js';
import { ActionFunction } from './constructs/action-function.js';
import { LedgerTable } from './constructs/ledger-table.js';
import { NotificationTopic } from './constructs/notification-topic.js';
import { Playbook } from './constructs/playbook.js';
import { iamCredentialsTriggers } from './constructs/triggers.js';

export interface CordonProps {
  /** Validated settings (`parseConfig`). */
  readonly config: CordonConfig;
}

/**
 * Cordon, embeddable in any CDK app: the ledger, the notification topic, one
 * function and role per action, and the playbooks with their rules. This
 * construct only composes; each concern lives in its own construct.
 */
export class Cordon extends Construct {
  readonly ledger: LedgerTable;
  readonly notifications: NotificationTopic;
  readonly functions: Readonly<Record<ActionName, ActionFunction>>;
  readonly playbooks: Readonly<Record<string, Playbook>>;

  constructor(scope: Construct, id: string, props: CordonProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    this.ledger = new LedgerTable(this, 'Ledger');
    this.notifications = new NotificationTopic(this, 'Notifications', {
      emails: config.notificationEmails,
    });

    const runtime: RuntimeConfig = {
      homeAccount: stack.account,
      allowedRegions: config.allowedRegions ?? [stack.region],
      severityThreshold: config.severityThreshold,
      securityHubSeverityLabels: config.securityHubSeverityLabels,
      protectedPrincipalPatterns: config.protectedPrincipalPatterns,
      exemptTag: config.exemptTag,
      modes: Object.fromEntries(PLAYBOOK_NAMES.map((p) => [p, modesFor(config, p)])),
    };
    const topicEnv = { [ENV.topicArn]: this.notifications.topic.topicArn };
    const environment: Partial<Record<ActionName, Record<string, string>>> = {
      triage: { [ENV.config]: stack.toJsonString(runtime) },
      notify: topicEnv,
      'request-approval': topicEnv,
    };

    const functions = byAction(
      (action) =>
        new ActionFunction(this, pascal(action), {
          action,
          ledger: this.ledger,
          environment: environment[action] ?? {},
        }),
    );
    this.functions = functions;
    this.grantActions(functions);

    const lambdas: PlaybookFunctions = byAction((action) => functions[action].function);
    const approvalTimeout = Duration.minutes(config.approvalTimeoutMinutes);
    this.playbooks = {
      'iam-credentials': new Playbook(this, 'IamCredentials', {
        name: 'iam-credentials',
        definition: (scope) =>
          iamCredentialsDefinition(scope, { functions: lambdas, approvalTimeout }),
        triggers: iamCredentialsTriggers(config),
        alarmTopic: this.notifications.topic,
      }),
    };
    for (const playbook of Object.values(this.playbooks)) {
      acknowledgeInvokeQualifiers(playbook, Object.values(functions));
    }
  }

  /** Exactly the calls each function makes, scoped as narrowly as IAM allows. */
  private grantActions(fns: Record<ActionName, ActionFunction>): void {
    const stack = Stack.of(this);
    const iamArn = (resource: string) =>
      stack.formatArn({
        service: 'iam',
        region: '',
        resource,
        resourceName: '*',
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    const users = iamArn('user');
    const roles = iamArn('role');
    const allow = (fn: ActionFunction, actions: string[], resources: string[]) =>
      fn.allow(new iam.PolicyStatement({ actions, resources }));
    // cdk-nag renders the partition token as <AWS::Partition> (and an
    // unresolved account as <AWS::AccountId>) in the finding id.
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    const anyTarget = (fn: ActionFunction, resource: 'user' | 'role') =>
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::${account}:${resource}/*]`,
        reason: `The containment target is only known at run time, from a validated finding; scoped to this account's IAM ${resource}s`,
      });

    // Triage verifies the principal the finding names and reads its tags.
    allow(fns.triage, ['iam:GetUser'], [users]);
    allow(fns.triage, ['iam:GetRole'], [roles]);
    anyTarget(fns.triage, 'user');
    anyTarget(fns.triage, 'role');

    allow(fns['disable-access-key'], ['iam:ListAccessKeys', 'iam:UpdateAccessKey'], [users]);
    anyTarget(fns['disable-access-key'], 'user');

    allow(
      fns['revoke-sessions'],
      ['iam:GetUser', 'iam:GetUserPolicy', 'iam:PutUserPolicy'],
      [users],
    );
    allow(
      fns['revoke-sessions'],
      ['iam:GetRole', 'iam:GetRolePolicy', 'iam:PutRolePolicy'],
      [roles],
    );
    anyTarget(fns['revoke-sessions'], 'user');
    anyTarget(fns['revoke-sessions'], 'role');
    // Defence in depth: whatever triage decides, this role cannot lock out Cordon itself.
    fns['revoke-sessions'].allow(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['iam:PutRolePolicy'],
        resources: [
          stack.formatArn({
            service: 'iam',
            region: '',
            resource: 'role',
            resourceName: `${CORDON_ROLE_PATH.slice(1)}*`,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        ],
      }),
    );

    allow(
      fns['quarantine-user'],
      [
        'iam:GetUser',
        'iam:GetUserPolicy',
        'iam:PutUserPolicy',
        'iam:GetLoginProfile',
        'iam:DeleteLoginProfile',
      ],
      [users],
    );
    anyTarget(fns['quarantine-user'], 'user');

    allow(
      fns['update-finding'],
      ['securityhub:BatchUpdateFindings'],
      [stack.formatArn({ service: 'securityhub', resource: 'hub', resourceName: 'default' })],
    );

    this.notifications.grantPublish(fns.notify.role);
    this.notifications.grantPublish(fns['request-approval'].role);
  }
}

/**
 * Step Functions' Lambda task grants InvokeFunction on each function's ARN
 * and on `<arn>:*` (its versions and aliases); cdk-nag reports each `:*`.
 */
function acknowledgeInvokeQualifiers(playbook: Playbook, fns: readonly ActionFunction[]): void {
  const stack = Stack.of(playbook);
  for (const fn of fns) {
    const cfn = fn.function.node.defaultChild;
    if (!(cfn instanceof lambda.CfnFunction)) continue;
    Validations.of(playbook).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(cfn)}.Arn>:*]`,
      reason: `Lambda tasks may invoke a version or alias of the ${fn.action} function; limited to that one function`,
    });
  }
}

function pascal(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
}
