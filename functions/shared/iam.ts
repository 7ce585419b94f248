/**
 * Roles as data. Each function declares its role next to its code, in its
 * `iam.ts`: the statements it needs beyond the baseline every function holds,
 * the calls IAM lets it scope to nothing narrower than `Resource: "*"` (with
 * why), and the SDK commands its shared modules import that it never sends
 * (with why). Infra builds the role from that declaration and nothing else;
 * the infra tests hold the synthesized role to it, and it to the commands the
 * code imports. Nothing here imports the CDK: the declarations are plain
 * statements over ARNs that infra renders.
 */

/** An IAM action, `service:Action`, never a wildcard. */
export type IamAction = `${string}:${string}`;

/** IAM condition operators to keys to values, as in a policy document. */
export type Conditions = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export interface Statement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly IamAction[];
  readonly resources: readonly string[];
  readonly conditions?: Conditions;
  /**
   * Why a resource ending in `*` is as narrow as IAM allows (cdk-nag asks).
   * @default the target is only known at run time, from a validated finding
   */
  readonly wildcard?: string;
  /**
   * It acts on (or reads) what a finding names, in the finding's account,
   * rather than Cordon's own resources: organization-wide, the member
   * account's spoke role holds it and the hub function's role does not
   * (`onTarget`, `targetSide`, `hubSide`).
   */
  readonly onTarget?: true;
}

/** ARNs of this deployment's account (and region, for regional services); `*` where no name is given. */
export interface Arns {
  iam(resource: 'user' | 'role' | 'instance-profile', name?: string): string;
  /** A policy AWS manages, in this partition: `arn:<partition>:iam::aws:policy/<name>`. */
  awsManagedPolicy(name: string): string;
  /** An EC2 resource; `account: ''` for resource types whose ARNs carry none (snapshots). */
  ec2(resource: string, options?: { readonly account?: string }): string;
  autoScalingGroups(): string;
  secrets(): string;
  lambdaFunctions(): string;
  buckets(): string;
  securityHubHub(): string;
  /** The Security Hub that keeps findings in OCSF (its V2 APIs); its hub id is AWS's. */
  securityHubHubV2(): string;
}

/** Cordon's own resources a role may name. */
export interface CordonResources {
  readonly approvalsTable: string;
  /** The HMAC key of approval records. */
  readonly approvalKey: string;
  /** The key task tokens are sealed with in the approvals table. */
  readonly tokenKey: string;
  readonly guardrailsTable: string;
  readonly notificationTopic: string;
  /** The key that encrypts the notification topic. */
  readonly notificationKey: string;
  readonly runtimeModeParameter: string;
  readonly rollbackStateMachine: string;
  /** The key every state machine's execution data is encrypted with. */
  readonly executionKey: string;
  /** Every state machine Cordon runs (each playbook's and the rollback machine). */
  readonly stateMachines: readonly string[];
  /** The executions of every state machine Cordon runs (each playbook's and the rollback machine's). */
  readonly executions: readonly string[];
  /** The ledger table's stream, which the anchor function reads. */
  readonly ledgerStream: string;
  /** Where anchors and tampering records go: the two prefixes of the anchors bucket. */
  readonly anchorObjects: readonly string[];
}

/** What a role declaration is rendered against. */
export interface IamContext {
  /** The account Cordon is deployed in, and acts in. */
  readonly account: string;
  readonly arn: Arns;
  readonly cordon: CordonResources;
}

/** One function's role, beyond the baseline. */
export interface RoleSpec {
  /** Every statement the role holds beyond the baseline: exactly the calls its code makes. */
  statements(ctx: IamContext): readonly Statement[];
  /** The calls granted on `Resource: "*"`, each with why IAM allows nothing narrower. */
  readonly unscoped?: Readonly<Record<IamAction, string>>;
  /** SDK commands its shared modules import that it never sends, each with why. */
  readonly notCalled?: Readonly<Record<IamAction, string>>;
  /**
   * Calls AWS makes with the role for the function, which its code never
   * sends (an event source mapping reading a stream), each with why.
   */
  readonly onItsBehalf?: Readonly<Record<IamAction, string>>;
}

/** An action folder's roles: its containment function's, and its rollback function's when it has one. */
export interface ActionIam {
  readonly containment: RoleSpec;
  readonly rollback?: RoleSpec;
}

export function allow(
  actions: readonly IamAction[],
  resources: readonly string[],
  conditions?: Conditions,
): Statement {
  return { effect: 'Allow', actions, resources, ...(conditions ? { conditions } : {}) };
}

export function deny(
  actions: readonly IamAction[],
  resources: readonly string[],
  conditions?: Conditions,
): Statement {
  return { effect: 'Deny', actions, resources, ...(conditions ? { conditions } : {}) };
}

/**
 * Statements that act on what a finding names, in its account: in
 * single-account mode the function's role holds them like any other;
 * organization-wide, the member account's spoke role for the function does.
 */
export function onTarget(statements: readonly Statement[]): Statement[] {
  return statements.map((statement) => ({ ...statement, onTarget: true }));
}

/** A role whose every statement acts on the target: an action's, a rollback's (`iam.ts`). */
export function actingOnTarget(spec: RoleSpec): RoleSpec {
  return { ...spec, statements: (ctx) => onTarget(spec.statements(ctx)) };
}

/**
 * Organization-wide, what a member account's spoke role for the function
 * holds: the statements of its declaration that act on the target.
 */
export function targetSide(spec: RoleSpec): RoleSpec {
  return side(spec, (statement) => statement.onTarget === true);
}

/**
 * Organization-wide, what stays with the hub function's role: Cordon's own
 * bookkeeping (the approval key, the guardrails, the topic), never a call
 * on a member's resources.
 */
export function hubSide(spec: RoleSpec): RoleSpec {
  return side(spec, (statement) => statement.onTarget !== true);
}

function side(spec: RoleSpec, keep: (statement: Statement) => boolean): RoleSpec {
  const statements = (ctx: IamContext) => spec.statements(ctx).filter(keep);
  const held = new Set(
    statements(EXAMPLE_CONTEXT)
      .filter((s) => s.effect === 'Allow')
      .flatMap((s) => s.actions),
  );
  const only = (entries: Readonly<Record<IamAction, string>> | undefined) =>
    entries &&
    (Object.fromEntries(
      Object.entries(entries).filter(([action]) => held.has(action as IamAction)),
    ) as Record<IamAction, string>);
  const unscoped = only(spec.unscoped);
  const onItsBehalf = only(spec.onItsBehalf);
  return {
    statements,
    ...(unscoped ? { unscoped } : {}),
    ...(spec.notCalled ? { notCalled: spec.notCalled } : {}),
    ...(onItsBehalf ? { onItsBehalf } : {}),
  };
}

/**
 * Calls that support no resource-level permissions: granted on `"*"`. Each
 * must be listed in the role's `unscoped`, with why, or synthesis fails.
 */
export function anywhere(actions: readonly IamAction[]): Statement {
  return { effect: 'Allow', actions, resources: ['*'] };
}

/** What every function's role holds besides its declaration, each on one resource. */
export const BASELINE = {
  /**
   * Appending to the ledger (functions/shared/ledger.ts): a conditional
   * PutItem, and Query for the latest entry to chain onto. On the ledger
   * table only; never UpdateItem, DeleteItem or BatchWriteItem.
   */
  ledger: ['dynamodb:PutItem', 'dynamodb:Query'],
  /**
   * The ledger key (functions/shared/ledger-mac.ts): GenerateMac to seal each
   * entry it appends, VerifyMac to check entries it reads before trusting
   * them (rollback). On the ledger key only; the key's policy denies
   * GenerateMac to every principal that is not one of Cordon's function roles.
   */
  ledgerKey: ['kms:GenerateMac', 'kms:VerifyMac'],
  /** Writing to the function's own log group. */
  logs: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  /** Active tracing (X-Ray), on `Resource: "*"`. */
  tracing: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
} as const satisfies Record<string, readonly IamAction[]>;

/** Every baseline action. */
export const BASELINE_ACTIONS: readonly IamAction[] = [
  ...BASELINE.ledger,
  ...BASELINE.ledgerKey,
  ...BASELINE.logs,
  ...BASELINE.tracing,
];

/** Why the baseline's tracing calls use `Resource: "*"`. */
export const BASELINE_UNSCOPED: Readonly<Record<(typeof BASELINE.tracing)[number], string>> = {
  'xray:PutTraceSegments': 'X-Ray trace uploads have no resource types: IAM takes only "*"',
  'xray:PutTelemetryRecords': 'X-Ray telemetry uploads have no resource types: IAM takes only "*"',
};

/** Why EC2 and Auto Scaling Describe calls use `Resource: "*"`. */
export const DESCRIBE_REASON =
  'a Describe call: it has no resource types, so IAM takes only "*" (read only)';

/**
 * Publishing to the KMS-encrypted notification topic: SNS calls the key on
 * the publisher's behalf, with the publisher's permissions.
 */
export function publishNotifications(ctx: IamContext): Statement[] {
  return [
    allow(['sns:Publish'], [ctx.cordon.notificationTopic]),
    allow(['kms:Decrypt', 'kms:GenerateDataKey'], [ctx.cordon.notificationKey]),
  ];
}

const STREAM_POLLER = "Lambda's event source mapping reads the ledger stream as this role";

/**
 * Reading the ledger table's stream, which Lambda's event source mapping
 * does as the function's role: the statements, and the `unscoped` and
 * `onItsBehalf` entries of a RoleSpec that holds them.
 */
export const LEDGER_STREAM_READER = {
  statements: (ctx: IamContext): Statement[] => [
    allow(
      ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
      [ctx.cordon.ledgerStream],
    ),
    allow(['dynamodb:ListStreams'], ['*']),
  ],
  unscoped: {
    'dynamodb:ListStreams': 'ListStreams has no resource type: IAM takes only "*" (read only)',
  },
  onItsBehalf: {
    'dynamodb:DescribeStream': STREAM_POLLER,
    'dynamodb:GetRecords': STREAM_POLLER,
    'dynamodb:GetShardIterator': STREAM_POLLER,
    'dynamodb:ListStreams': STREAM_POLLER,
  },
};

/**
 * Step Functions calls the execution key as the caller of its API: starting
 * or answering an execution encrypts (GenerateDataKey) and decrypts, reading
 * one decrypts. Only for the data of Cordon's own state machines, which is
 * what their encryption context names.
 */
export function executionData(
  ctx: IamContext,
  calls: readonly ('kms:Decrypt' | 'kms:GenerateDataKey')[],
): Statement {
  return allow(calls, [ctx.cordon.executionKey], {
    StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': ctx.cordon.stateMachines },
  });
}

/**
 * Checking approval records (approval-record.ts): VerifyMac on the approval
 * key, never GenerateMac (which its key policy denies to all but the
 * responder API anyway).
 */
export function verifyApprovals(ctx: IamContext): Statement {
  return allow(['kms:VerifyMac'], [ctx.cordon.approvalKey]);
}

/** A role that also checks approval records: an action's, a rollback's. */
export function checkingApprovals(spec: RoleSpec): RoleSpec {
  return { ...spec, statements: (ctx) => [...spec.statements(ctx), verifyApprovals(ctx)] };
}

/**
 * What no containment or rollback role may write to, by exact ARN: Cordon's
 * own roles and functions, and the configured break-glass principals.
 * Exact ARNs, never a path or a name pattern: anyone who may create a role
 * chooses its path, and a role someone creates under `/cordon/` must stay
 * containable.
 */
export interface FenceTargets {
  /** Every role the Cordon construct creates. */
  readonly roles: readonly string[];
  /** Every function the Cordon construct creates. */
  readonly functions: readonly string[];
  /** `breakGlassPrincipalArns` (IAM users and roles; patterns as configured). */
  readonly breakGlass: readonly string[];
}

/** Reads: the calls a fence leaves alone. */
const READ = /^[a-z0-9-]+:(Get|List)[A-Za-z]*$/;

/**
 * The writes a role's fences deny: every IAM and Lambda call it allows that
 * is not a read. Those are the services whose resources include Cordon's
 * roles and functions and the break-glass principals; Cordon owns no EC2,
 * Auto Scaling, S3 or Secrets Manager resource its actions could reach.
 * Derived, not declared, so a new write cannot be left out.
 */
export function fencedActions(spec: RoleSpec): IamAction[] {
  return allowedActions(spec).filter(
    (a) => (a.startsWith('iam:') || a.startsWith('lambda:')) && !READ.test(a),
  );
}

/**
 * A role's fences: explicit Denies of its writes on Cordon's roles and the
 * break-glass principals (IAM) and on Cordon's functions (Lambda). An
 * explicit Deny wins over any Allow, so whatever the role's statements
 * allow, and whatever triage lets through, none of its writes reaches them.
 */
export function fences(spec: RoleSpec, targets: FenceTargets): Statement[] {
  const writes = fencedActions(spec);
  const iamWrites = writes.filter((a) => a.startsWith('iam:'));
  const lambdaWrites = writes.filter((a) => a.startsWith('lambda:'));
  return [
    ...(iamWrites.length > 0 ? [deny(iamWrites, [...targets.roles, ...targets.breakGlass])] : []),
    ...(lambdaWrites.length > 0 ? [deny(lambdaWrites, [...targets.functions])] : []),
  ];
}

/** A context of example ARNs, for reading a declaration outside a synthesis. */
export const EXAMPLE_CONTEXT: IamContext = {
  account: '111111111111',
  arn: {
    iam: (resource, name = '*') => `arn:aws:iam::111111111111:${resource}/${name}`,
    awsManagedPolicy: (name) => `arn:aws:iam::aws:policy/${name}`,
    ec2: (resource, options = {}) =>
      `arn:aws:ec2:us-east-1:${options.account ?? '111111111111'}:${resource}/*`,
    autoScalingGroups: () =>
      'arn:aws:autoscaling:us-east-1:111111111111:autoScalingGroup:*:autoScalingGroupName/*',
    secrets: () => 'arn:aws:secretsmanager:us-east-1:111111111111:secret:*',
    lambdaFunctions: () => 'arn:aws:lambda:us-east-1:111111111111:function:*',
    buckets: () => 'arn:aws:s3:::*',
    securityHubHub: () => 'arn:aws:securityhub:us-east-1:111111111111:hub/default',
    securityHubHubV2: () => 'arn:aws:securityhub:us-east-1:111111111111:hubv2/*',
  },
  cordon: {
    approvalsTable: 'arn:aws:dynamodb:us-east-1:111111111111:table/approvals',
    approvalKey: 'arn:aws:kms:us-east-1:111111111111:key/approval',
    tokenKey: 'arn:aws:kms:us-east-1:111111111111:key/token',
    guardrailsTable: 'arn:aws:dynamodb:us-east-1:111111111111:table/guardrails',
    notificationTopic: 'arn:aws:sns:us-east-1:111111111111:notifications',
    notificationKey: 'arn:aws:kms:us-east-1:111111111111:key/example',
    runtimeModeParameter: 'arn:aws:ssm:us-east-1:111111111111:parameter/cordon/mode',
    rollbackStateMachine: 'arn:aws:states:us-east-1:111111111111:stateMachine:rollback',
    executionKey: 'arn:aws:kms:us-east-1:111111111111:key/execution',
    stateMachines: [
      'arn:aws:states:us-east-1:111111111111:stateMachine:playbook',
      'arn:aws:states:us-east-1:111111111111:stateMachine:rollback',
    ],
    executions: [
      'arn:aws:states:us-east-1:111111111111:execution:playbook:*',
      'arn:aws:states:us-east-1:111111111111:execution:rollback:*',
    ],
    ledgerStream:
      'arn:aws:dynamodb:us-east-1:111111111111:table/ledger/stream/2026-01-01T00:00:00.000',
    anchorObjects: ['arn:aws:s3:::anchors/anchors/*', 'arn:aws:s3:::anchors/tampering/*'],
  },
};

/** Every action a role declaration allows, sorted, each once. */
export function allowedActions(spec: RoleSpec): IamAction[] {
  const actions = spec
    .statements(EXAMPLE_CONTEXT)
    .filter((s) => s.effect === 'Allow')
    .flatMap((s) => s.actions);
  return [...new Set(actions)].sort();
}

/**
 * What a function with spoke roles calls only organization-wide: it assumes
 * its spoke role in the finding's account (functions/shared/spoke.ts). Its
 * role holds it only then (infra/constructs/action-function.ts).
 */
export const SPOKE_CALLS: readonly IamAction[] = ['sts:AssumeRole'];

/**
 * What triage calls only organization-wide with every member in scope
 * (`"accounts": "*"`): whether an account is an active member
 * (triage/guardrails/membership.ts). Its role holds it only then.
 */
export const MEMBERSHIP_CALLS: readonly IamAction[] = ['organizations:DescribeAccount'];
