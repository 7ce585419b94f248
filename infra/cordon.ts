import {
  Annotations,
  ArnFormat,
  Aws,
  CfnOutput,
  Duration,
  Lazy,
  Stack,
  Tags,
  Validations,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ANCHORS_BUCKET_OUTPUT } from '../functions/anchor/contract.js';
import { METRICS_SERVICE_ENV } from '../functions/metrics/contract.js';
import { byFunction, ROLLBACK_MACHINE_FUNCTIONS, SPOKES } from '../functions/registry.js';
import type { ApprovalSettings } from '../functions/request-approval/core.js';
import { APPROVAL_URL_OUTPUT } from '../functions/responder-api/contract.js';
import type { ApprovalPolicy } from '../functions/shared/approval-record.js';
import {
  type FunctionName,
  functionsOfPlaybook,
  PLAYBOOK_NAMES,
  ROLLBACK_MACHINE,
  SEQUENCE,
  stepsOf,
} from '../functions/shared/catalog.js';
import type { FenceTargets, IamContext } from '../functions/shared/iam.js';
import { LEDGER_TABLE_OUTPUT } from '../functions/shared/ledger.js';
import { LEDGER_KEY_OUTPUT } from '../functions/shared/ledger-mac.js';
import { type OrganizationRuntime, spokeRoleArn } from '../functions/shared/organization.js';
import type { ProtectionConfig } from '../functions/shared/protection.js';
import { ENV, type RuntimeConfig } from '../functions/shared/runtime-config.js';
import type { WatchConfig } from '../functions/watch/core.js';
import { playbookDefinition } from '../state-machines/playbook.js';
import { rollbackDefinition } from '../state-machines/rollback.js';
import type { PlaybookFunctions } from '../state-machines/tasks.js';
import { StackArns } from './arns.js';
import { type CordonSettings, modesFor, type OrganizationConfig, parseConfig } from './config.js';
import { ActionFunction, type SpokeAccess } from './constructs/action-function.js';
import { ApprovalKey } from './constructs/approval-key.js';
import { ApprovalsTable } from './constructs/approvals-table.js';
import { ContainmentDashboard } from './constructs/dashboard.js';
import { EXECUTION_KEY_OUTPUT, ExecutionKey } from './constructs/execution-key.js';
import { Guardrails } from './constructs/guardrails.js';
import { LedgerAnchors } from './constructs/ledger-anchors.js';
import { deployRoleArn, LedgerTable } from './constructs/ledger-table.js';
import { NOTIFICATION_TOPIC_OUTPUT, NotificationTopic } from './constructs/notification-topic.js';
import { executionTimeout, Playbook } from './constructs/playbook.js';
import { SpokeStackSet, spokeRegions } from './constructs/spoke-stack-set.js';
import { TokenKey } from './constructs/token-key.js';
import { Watch } from './constructs/watch.js';
import { pascal } from './names.js';
import { PLAYBOOK_SPECS } from './playbooks.js';
import { ENDPOINT_TAG, MANAGED_TAG } from './tags.js';

export interface CordonProps {
  /**
   * Cordon's settings: the keys of the `cordon` context in cdk.json (README,
   * Configuration), validated by `parseConfig` here, which fills in each key
   * left out with its default (infra/config.ts holds every default); a bad
   * value fails the synthesis with a message naming the key. `account` and
   * `region` are not read here: Cordon deploys into its stack's.
   *
   * @default every setting at its default: findings of this stack's account
   * and region only, GuardDuty severity 7 and up, Security Hub HIGH and
   * CRITICAL; each step in its playbook's default mode (the high-impact ones
   * wait for approval); no responders, so every approval times out and is not
   * acted on (synth warns); no email subscriptions
   */
  readonly config?: CordonSettings;
}

/**
 * Cordon, embeddable in any CDK app: the ledger, the notification topic, one
 * function and role per action, and the playbooks with their rules. This
 * construct only composes; each concern lives in its own construct.
 */
export class Cordon extends Construct {
  readonly ledger: LedgerTable;
  /** The ledger's anchors: every entry's hash, under Object Lock, written from the table's stream. */
  readonly anchors: LedgerAnchors;
  readonly approvals: ApprovalsTable;
  /** MACs approval records: only the responder API may make one. */
  readonly approvalKey: ApprovalKey;
  /** Seals task tokens in the approvals table: only the responder API may open one. */
  readonly tokenKey: TokenKey;
  /** Encrypts the state machines' execution data: only Cordon's roles and the configured readers may use it. */
  readonly executionKey: ExecutionKey;
  /** The runtime mode parameter and the circuit breaker's table. */
  readonly guardrails: Guardrails;
  /** The approval endpoint: a function URL with AWS_IAM auth. */
  readonly approvalUrl: lambda.FunctionUrl;
  readonly notifications: NotificationTopic;
  readonly functions: Readonly<Record<FunctionName, ActionFunction>>;
  readonly playbooks: Readonly<Record<string, Playbook>>;
  /** The rollback state machine: started through the approval endpoint only. */
  readonly rollback: Playbook;
  /** Aborted executions, StopExecution calls, and changes to the runtime mode and to the rules: recorded and notified. */
  readonly watch: Watch;
  /** Containment metrics, from the ledger, and the approvals waiting. */
  readonly dashboard: ContainmentDashboard;
  /** Organization-wide, the StackSet of the member accounts' spoke roles; undefined in single-account mode. */
  readonly spokes: SpokeStackSet | undefined;

  constructor(scope: Construct, id: string, props: CordonProps = {}) {
    super(scope, id);
    const config = parseConfig(props.config);
    const stack = Stack.of(this);
    Tags.of(this).add(MANAGED_TAG, 'true');
    // Rollback: no rule starts it; the approval endpoint does, for a responder.
    // Named, and granted by ARN: the machine invokes request-approval, whose
    // message names the endpoint, so a reference back would be a cycle.
    const rollbackName = `${stack.stackName}-rollback`;
    const rollbackArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: rollbackName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    // Lazy: the function roles exist only once every function is built below.
    this.ledger = new LedgerTable(this, 'Ledger', {
      writers: () => Object.values(this.functions).map((fn) => fn.role.roleArn),
    });
    this.notifications = new NotificationTopic(this, 'Notifications', {
      emails: config.notificationEmails,
    });
    new CfnOutput(this, NOTIFICATION_TOPIC_OUTPUT, {
      key: NOTIFICATION_TOPIC_OUTPUT,
      value: this.notifications.topic.topicArn,
      description:
        'Cordon notifications: email gets plain text; a Slack or Teams channel of Amazon Q Developer in chat applications gets the chat form',
    });

    const runtime: Omit<RuntimeConfig, 'cordonRoleArns'> = {
      homeAccount: stack.account,
      allowedRegions: config.allowedRegions ?? [stack.region],
      severityThreshold: config.severityThreshold,
      securityHubSeverityLabels: config.securityHubSeverityLabels,
      // Break-glass principals are never contained either, nor, organization-wide,
      // the spoke roles in any member account (a role's name is unique in its
      // account: a role of another path with a spoke's name blocks the spoke).
      protectedPrincipalPatterns: [
        ...config.protectedPrincipalPatterns,
        ...config.breakGlassPrincipalArns,
        // Twelve `?`, not `*`: an account id is twelve characters, and `*`
        // would also match a user whose path spells `:role/cordon/<name>`.
        ...(config.organization
          ? SPOKES.map((spec) => spokeRoleArn(Aws.PARTITION, '?'.repeat(12), spec.name))
          : []),
      ],
      exemptTag: config.exemptTag,
      modes: Object.fromEntries(PLAYBOOK_NAMES.map((p) => [p, modesFor(config, p)])),
      securityHubProductAllowList: config.securityHubProductAllowList,
      runtimeModeParameter: config.runtimeModeParameterName,
      circuitBreaker: {
        maxContainments: config.circuitBreaker.maxContainments,
        windowSeconds: config.circuitBreaker.windowMinutes * 60,
      },
    };
    const topicEnv = { [ENV.topicArn]: this.notifications.topic.topicArn };
    const environment: Partial<Record<FunctionName, Record<string, string>>> = {
      // Lazy: every role of the construct, the ones built after triage too.
      triage: {
        [ENV.config]: Lazy.string({
          produce: () => stack.toJsonString({ ...runtime, cordonRoleArns: this.roleArns() }),
        }),
        ...topicEnv,
      },
      notify: topicEnv,
      'request-approval': topicEnv,
      watch: topicEnv,
      anchor: topicEnv,
    };
    const breakGlass = { [ENV.breakGlass]: JSON.stringify(config.breakGlassPrincipalArns) };
    // The actions on IAM principals check the guards again before they act.
    const guards = {
      [ENV.guards]: Lazy.string({
        produce: () =>
          stack.toJsonString({
            protectedPrincipalPatterns: runtime.protectedPrincipalPatterns,
            cordonRoleArns: this.roleArns(),
            exemptTag: runtime.exemptTag,
          } satisfies ProtectionConfig),
      }),
    };

    const functions = byFunction(
      (spec) =>
        new ActionFunction(this, pascal(spec.name), {
          spec,
          ledger: this.ledger,
          environment: {
            ...environment[spec.name],
            ...(spec.breakGlass ? breakGlass : {}),
            ...(spec.guards ? guards : {}),
          },
        }),
    );
    this.functions = functions;

    this.anchors = new LedgerAnchors(this, 'LedgerAnchors', {
      retentionDays: config.ledgerAnchorRetentionDays,
    });
    const stream = this.ledger.table.tableStreamArn;
    if (stream === undefined) throw new Error('the ledger table has no stream to anchor from');
    functions.anchor.addEnvironment({ [ENV.anchorsBucket]: this.anchors.bucket.bucketName });
    this.anchors.connect(functions.anchor.function, functions.anchor.role, {
      stream,
      alarmTopic: this.notifications.topic,
    });

    this.guardrails = new Guardrails(this, 'Guardrails', {
      runtimeModeParameterName: config.runtimeModeParameterName,
      writers: [functions.triage.role.roleArn, functions['responder-api'].role.roleArn],
    });
    const guardrailsEnv = { [ENV.guardrailsTable]: this.guardrails.table.tableName };
    functions.triage.addEnvironment(guardrailsEnv);
    functions['responder-api'].addEnvironment(guardrailsEnv);

    const approvalTimeout = Duration.minutes(config.approvalTimeoutMinutes);
    const approvalFunction = functions['responder-api'];
    this.approvals = new ApprovalsTable(this, 'Approvals', {
      reader: approvalFunction.role,
      writer: functions['request-approval'].role,
      counter: functions.metrics.role,
    });
    this.connectMetrics(functions.metrics, stream);
    Tags.of(approvalFunction.function).add(ENDPOINT_TAG, 'true');
    this.approvalUrl = approvalFunction.function.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.AWS_IAM,
    });
    for (const responder of config.responderPrincipalArns) {
      approvalFunction.function.grantInvokeUrl(new iam.ArnPrincipal(responder));
    }
    if (config.responderPrincipalArns.length === 0) {
      Annotations.of(this).addWarningV2(
        'cordon:noResponders',
        'cordon.responderPrincipalArns is empty: nobody can approve a step, so every approval times out and is not acted on',
      );
    }
    // Approval records: the responder API makes them; actions, rollbacks and
    // record-failure check them against the same responders and two-person steps.
    this.approvalKey = new ApprovalKey(this, 'ApprovalKey', { signer: approvalFunction.role });
    const approvalPolicy: ApprovalPolicy = {
      keyId: this.approvalKey.key.keyArn,
      responders: config.responderPrincipalArns,
      twoPersonSteps: config.twoPersonRule,
    };
    const policyEnv = { [ENV.approvalPolicy]: stack.toJsonString(approvalPolicy) };
    for (const fn of Object.values(functions)) {
      if (fn.spec.checksApprovals || fn.name === 'responder-api') fn.addEnvironment(policyEnv);
    }
    this.tokenKey = new TokenKey(this, 'TokenKey', { opener: approvalFunction.role });
    const tableEnv = {
      [ENV.approvalsTable]: this.approvals.table.tableName,
      [ENV.tokenKey]: this.tokenKey.key.keyArn,
    };
    approvalFunction.addEnvironment({
      ...tableEnv,
      [ENV.responders]: JSON.stringify(config.responderPrincipalArns),
    });
    const settings: ApprovalSettings = {
      timeoutSeconds: approvalTimeout.toSeconds(),
      twoPersonSteps: config.twoPersonRule,
      endpointUrl: this.approvalUrl.url,
    };
    functions['request-approval'].addEnvironment({
      ...tableEnv,
      [ENV.approvalSettings]: stack.toJsonString(settings),
    });
    new CfnOutput(this, APPROVAL_URL_OUTPUT, {
      key: APPROVAL_URL_OUTPUT,
      value: this.approvalUrl.url,
      description: 'Cordon approval endpoint (AWS_IAM): cordon pending | approve | reject | show',
    });

    new CfnOutput(this, LEDGER_TABLE_OUTPUT, {
      key: LEDGER_TABLE_OUTPUT,
      value: this.ledger.table.tableName,
      description: 'Cordon audit ledger (append-only, hash-chained, MACed): cordon ledger verify',
    });
    new CfnOutput(this, LEDGER_KEY_OUTPUT, {
      key: LEDGER_KEY_OUTPUT,
      value: this.ledger.key.keyArn,
      description: 'Cordon ledger key (HMAC): cordon ledger verify needs kms:VerifyMac on it',
    });
    new CfnOutput(this, ANCHORS_BUCKET_OUTPUT, {
      key: ANCHORS_BUCKET_OUTPUT,
      value: this.anchors.bucket.bucketName,
      description:
        'Cordon ledger anchors (Object Lock): cordon ledger verify needs s3:ListBucketVersions on it',
    });

    // Lazy: the playbooks' roles exist only once every playbook is built below.
    this.executionKey = new ExecutionKey(this, 'ExecutionKey', {
      users: () => [
        ...this.executionRoles().map((role) => role.roleArn),
        functions['responder-api'].role.roleArn,
        functions.watch.role.roleArn,
        deployRoleArn(this),
        ...config.executionReaderPrincipalArns,
      ],
    });
    new CfnOutput(this, EXECUTION_KEY_OUTPUT, {
      key: EXECUTION_KEY_OUTPUT,
      value: this.executionKey.key.keyArn,
      description:
        "Cordon execution key: reading the state machines' execution data needs kms:Decrypt on it and a place in executionReaderPrincipalArns",
    });
    const lambdas: PlaybookFunctions = byFunction(({ name }) => functions[name].function);
    this.playbooks = Object.fromEntries(
      PLAYBOOK_NAMES.map((name) => {
        const spec = PLAYBOOK_SPECS[name];
        const playbook = new Playbook(this, spec.id, {
          name,
          stateMachineName: `${stack.stackName}-${name}`,
          definition: (scope) =>
            playbookDefinition(scope, name, { functions: lambdas, approvalTimeout }),
          triggers: spec.triggers(config),
          alarmTopic: this.notifications.topic,
          executionKey: this.executionKey.key,
          // Each step may wait for its own approval, one after another.
          // An attack sequence waits for one approval, of the whole set.
          timeout: executionTimeout(
            approvalTimeout,
            name === SEQUENCE.playbook ? 1 : Object.keys(stepsOf(name)).length,
          ),
        });
        return [name, playbook];
      }),
    );
    for (const name of PLAYBOOK_NAMES) {
      const used = functionsOfPlaybook(name).map((fn) => functions[fn]);
      const playbook = this.playbooks[name];
      if (playbook) acknowledgeInvokeQualifiers(playbook, used);
    }

    this.rollback = new Playbook(this, 'Rollback', {
      name: ROLLBACK_MACHINE,
      stateMachineName: rollbackName,
      definition: (scope) => rollbackDefinition(scope, { functions: lambdas, approvalTimeout }),
      triggers: [],
      alarmTopic: this.notifications.topic,
      executionKey: this.executionKey.key,
      timeout: executionTimeout(approvalTimeout, 1),
    });
    acknowledgeInvokeQualifiers(
      this.rollback,
      ROLLBACK_MACHINE_FUNCTIONS.map((name) => functions[name]),
    );
    approvalFunction.addEnvironment({ [ENV.rollbackStateMachine]: rollbackArn });

    const machines: {
      name: WatchConfig['machines'][number]['name'];
      stateMachine: StateMachine;
    }[] = [
      ...PLAYBOOK_NAMES.flatMap((name) => {
        const playbook = this.playbooks[name];
        return playbook ? [{ name, stateMachine: playbook.stateMachine }] : [];
      }),
      { name: ROLLBACK_MACHINE, stateMachine: this.rollback.stateMachine },
    ];
    const watchConfig: WatchConfig = {
      machines: machines.map(({ name, stateMachine }) => ({
        name,
        arn: stateMachine.stateMachineArn,
      })),
      runtimeModeParameter: config.runtimeModeParameterName,
    };
    functions.watch.addEnvironment({ [ENV.watch]: stack.toJsonString(watchConfig) });
    this.watch = new Watch(this, 'WatchRules', {
      handler: functions.watch.function,
      stateMachines: machines.map((m) => m.stateMachine),
      runtimeModeParameterName: config.runtimeModeParameterName,
      rules: Object.values(this.playbooks).flatMap((p) => p.rules),
      alarmTopic: this.notifications.topic,
    });
    this.dashboard = new ContainmentDashboard(this, 'Dashboard', {
      service: stack.stackName,
      metricsFunction: functions.metrics.function,
      stateMachines: machines.map((m) => m.stateMachine),
    });

    // Every role, from its function's declaration, now that every resource it names exists.
    const context: IamContext = {
      account: stack.account,
      arn: new StackArns(stack),
      cordon: {
        approvalsTable: this.approvals.table.tableArn,
        approvalKey: this.approvalKey.key.keyArn,
        tokenKey: this.tokenKey.key.keyArn,
        guardrailsTable: this.guardrails.table.tableArn,
        notificationTopic: this.notifications.topic.topicArn,
        notificationKey: this.notifications.key.keyArn,
        runtimeModeParameter: this.guardrails.runtimeMode.parameterArn,
        rollbackStateMachine: rollbackArn,
        executionKey: this.executionKey.key.keyArn,
        stateMachines: [
          ...Object.values(this.playbooks).map((p) => p.stateMachineArn),
          this.rollback.stateMachineArn,
        ],
        executions: machines.map(({ stateMachine }) =>
          stack.formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${stateMachine.stateMachineName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
        ledgerStream: stream,
        anchorObjects: this.anchors.objects(),
      },
    };
    const { organization } = config;
    const spokes = new Set<FunctionName>(SPOKES.map((spec) => spec.name));
    // Single-account, the regions triage accepts findings from are the ones its
    // roles act in (a finding of another allowed region is contained there).
    const regions = [...new Set([stack.region, ...runtime.allowedRegions])];
    for (const fn of Object.values(functions)) {
      fn.grantDeclared(
        context,
        organization && spokes.has(fn.name)
          ? spokeAccess(stack, organization, fn.name)
          : { regions },
      );
    }
    this.spokes = organization
      ? new SpokeStackSet(this, 'Spokes', {
          organization,
          hubRoles: (name) => functions[name].role,
          breakGlassPrincipalArns: config.breakGlassPrincipalArns,
        })
      : undefined;
    if (organization && this.spokes) {
      // What each function with spokes needs to act through them (functions/shared/spoke.ts).
      const runtime = stack.toJsonString({
        partition: Aws.PARTITION,
        deployment: this.spokes.hubDeployment,
        organizationId: organization.organizationId,
        accounts: organization.accounts,
        excludedAccounts: organization.excludedAccounts,
        regions: organization.regions,
      } satisfies OrganizationRuntime);
      for (const name of spokes) functions[name].addEnvironment({ [ENV.organization]: runtime });
    }
    // Then every role's fences: its writes denied on every role and function
    // of this construct, and on the break-glass principals, by exact ARN.
    const fenced: FenceTargets = {
      roles: this.roleArns(),
      functions: Object.values(functions).map((fn) => fn.function.functionArn),
      breakGlass: config.breakGlassPrincipalArns,
    };
    for (const fn of Object.values(functions)) fn.fence(fenced);
  }

  /**
   * The metrics function reads each new ledger entry from the table's
   * stream (a second consumer beside the anchors: a failing batch is split
   * and retried twice, then skipped, so metrics never hold up anchoring),
   * and counts the waiting approvals every five minutes.
   */
  private connectMetrics(fn: ActionFunction, stream: string): void {
    fn.addEnvironment({
      [METRICS_SERVICE_ENV]: Stack.of(this).stackName,
      [ENV.approvalsTable]: this.approvals.table.tableName,
    });
    const mapping = new lambda.EventSourceMapping(this, 'MetricsStream', {
      target: fn.function,
      eventSourceArn: stream,
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: 100,
      retryAttempts: 2,
      bisectBatchOnError: true,
    });
    // The mapping checks at creation that the role may read the stream.
    mapping.node.addDependency(fn.role);
    Validations.of(mapping).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'A batch the metrics function fails on loses only its metrics: the entries stay in the ledger, which cordon report reads, and the failure shows as function errors on the dashboard',
    });
    const schedule = new events.Rule(this, 'MetricsSchedule', {
      description: 'Cordon metrics: count the approvals waiting for a responder',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(fn.function, { retryAttempts: 2 })],
    });
    Validations.of(schedule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'A scheduled count that cannot be delivered is replaced by the next one, five minutes later',
    });
  }

  /** The roles of the state machines and of the rules that start them. */
  private executionRoles(): iam.IRole[] {
    return [...Object.values(this.playbooks), this.rollback].flatMap((playbook) => [
      playbook.stateMachine.role,
      ...(playbook.eventsRole ? [playbook.eventsRole] : []),
    ]);
  }

  /** The exact ARN of every role this construct creates: Cordon's own, protected by identity. */
  roleArns(): string[] {
    return this.node
      .findAll()
      .filter((c): c is iam.Role => c instanceof iam.Role)
      .map((role) => role.roleArn);
  }
}

/**
 * Organization-wide, the spoke roles a hub function may assume: its own, in
 * the configured accounts (every member of the organization for `"*"`),
 * never in an excluded one.
 */
function spokeAccess(
  stack: Stack,
  organization: OrganizationConfig,
  fn: FunctionName,
): SpokeAccess {
  const partition = Aws.PARTITION;
  const { accounts, excludedAccounts } = organization;
  const inScope =
    accounts === '*' ? ['*'] : accounts.filter((account) => !excludedAccounts.includes(account));
  // Never one in the hub's own account, where its own role acts (the StackSet deploys none there).
  const denied = [...excludedAccounts, stack.account];
  return {
    spokeRoleArns: inScope.map((account) => spokeRoleArn(partition, account, fn)),
    excludedRoleArns: denied.map((account) => spokeRoleArn(partition, account, fn)),
    organizationId: organization.organizationId,
    describesMembers: fn === 'triage' && accounts === '*',
    regions: spokeRegions(stack, organization),
  };
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
      reason: `Lambda tasks may invoke a version or alias of the ${fn.name} function; limited to that one function`,
    });
  }
}
