import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionSpec } from '../../functions/registry.js';
import type { FunctionName } from '../../functions/shared/catalog.js';
import {
  allow,
  BASELINE_UNSCOPED,
  deny,
  type FenceTargets,
  fences,
  hubSide,
  type IamContext,
  type RoleSpec,
  type Statement,
  targetSide,
} from '../../functions/shared/iam.js';
import { SOURCE_IDENTITY_PATTERN } from '../../functions/shared/organization.js';
import { CORDON_ROLE_PATH, ENV } from '../../functions/shared/runtime-config.js';
import { StackArns } from '../arns.js';
import { acrossRegions } from '../regional.js';
import type { LedgerTable } from './ledger-table.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the package keeps each function's prebuilt bundle, one folder per function, beside infra/. */
export const PREBUILT_DIR = 'bundles';

/** How esbuild bundles a function's source: for `cdk synth` from a clone, and for the package. */
const BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node24',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  externalModules: [],
  mainFields: ['module', 'main'],
  banner:
    "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  forceDockerBundling: false,
} satisfies BundlingOptions;

export interface ActionFunctionProps {
  /** The function, as functions/registry.ts declares it: its entry, its role, its settings. */
  readonly spec: FunctionSpec;
  /** Every function appends to the ledger. */
  readonly ledger: LedgerTable;
  /** Extra environment variables. @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 256 MiB */
  readonly memorySize?: number;
  /** @default one year */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One Cordon function: its own role (path `/cordon/`, so triage always
 * protects it), its own log group, Node.js 24 on arm64, X-Ray tracing,
 * bundled with local esbuild (AWS SDK included, so behaviour does not
 * change with the runtime's SDK), or prebuilt where the package ships its
 * bundle. The role starts with only logging and the ledger; `grantDeclared`
 * adds exactly what the function's `iam.ts` declares.
 */
export class ActionFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly name: FunctionName;
  readonly spec: FunctionSpec;
  /** What the role holds beyond the baseline: the whole declaration, or organization-wide its hub side. */
  private declared: RoleSpec;

  constructor(scope: Construct, id: string, props: ActionFunctionProps) {
    super(scope, id);
    const { spec } = props;
    this.spec = spec;
    this.name = spec.name;
    this.declared = spec.iam;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      path: CORDON_ROLE_PATH,
      description: `Cordon ${spec.name}: only the calls this function makes`,
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    });
    const settings = {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: Duration.seconds(spec.timeoutSeconds ?? 30),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: `Cordon ${spec.name}`,
      environment: {
        [ENV.action]: spec.name,
        [ENV.actor]: this.role.roleArn,
        [ENV.ledgerTable]: props.ledger.table.tableName,
        [ENV.ledgerKey]: props.ledger.key.keyArn,
        POWERTOOLS_SERVICE_NAME: 'cordon',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
    } satisfies Omit<lambda.FunctionProps, 'code' | 'handler'>;
    // The package ships every function bundled already, by this same NodejsFunction
    // (scripts/build-package.ts), so an app installing it needs no esbuild.
    const prebuilt = join(ROOT, PREBUILT_DIR, spec.name);
    this.function = existsSync(prebuilt)
      ? new lambda.Function(this, 'Function', {
          ...settings,
          code: lambda.Code.fromAsset(prebuilt),
          handler: 'index.handler',
        })
      : new NodejsFunction(this, 'Function', {
          ...settings,
          entry: join(ROOT, 'functions', spec.dir, spec.entry),
          handler: 'handler',
          projectRoot: ROOT,
          depsLockFilePath: join(ROOT, 'package-lock.json'),
          bundling: BUNDLING,
        });
    props.ledger.grantAppend(this.role);
    // The role is ours (no AWSLambdaBasicExecutionRole), so logging is granted
    // here: CreateLogStream and PutLogEvents on this function's log group only.
    logGroup.grantWrite(this.role);
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        spec.invokedByRules ??
        'Invoked synchronously by Step Functions only; errors return to the state machine, which retries and catches them, so an asynchronous-invocation DLQ would never receive anything',
    });
  }

  /**
   * Adds the statements the function's `iam.ts` declares, rendered against
   * this deployment. A grant on `Resource: "*"` the declaration does not list
   * in `unscoped` fails the synthesis; the ones it lists, and every resource
   * ending in a wildcard, are acknowledged for cdk-nag with their reasons.
   */
  grantDeclared(
    context: IamContext,
    where: SpokeAccess | { readonly regions: readonly string[] } = { regions: [] },
  ): void {
    const { spec } = this;
    const organization = 'spokeRoleArns' in where ? where : undefined;
    const stack = Stack.of(this);
    const regions = where.regions.filter((region) => region !== stack.region);
    // Its statements on its own account's resources name every region it
    // acts in: single-account, the allowed regions; organization-wide, the
    // hub's regions (its own account's findings). What acts on a member's
    // resources is that member's spoke roles', reached only through them.
    // The fences below cover its own writes either way.
    if (organization || regions.length > 0) {
      this.declared = acrossHubRegions(spec.iam, stack, [stack.region, ...regions]);
    }
    const unscoped = this.declared.unscoped ?? {};
    const statements = [
      ...this.declared.statements(context),
      ...(organization ? assumingSpokes(organization) : []),
    ];
    for (const statement of statements) {
      const everywhere = statement.resources.includes('*');
      if (everywhere && statement.effect === 'Allow') {
        const undeclared = statement.actions.filter((a) => !Object.hasOwn(unscoped, a));
        if (undeclared.length > 0 || statement.resources.length > 1) {
          throw new Error(
            `${spec.name}: ${undeclared.join(', ') || 'a call'} granted on Resource "*" but not declared, alone, in the unscoped calls of functions/${spec.dir}/iam.ts`,
          );
        }
      }
      this.role.addToPrincipalPolicy(render(statement));
      if (statement.effect === 'Deny') continue;
      for (const resource of statement.resources) {
        if (resource === '*' || !resource.includes('*')) continue;
        Validations.of(this.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${nagForm(Stack.of(this), resource)}]`,
          reason:
            statement.wildcard ??
            (statement.conditions
              ? 'The target is only known at run time, from a validated finding; scoped to this account and gated by the conditions on Cordon tags'
              : 'The target is only known at run time, from a validated finding; scoped to this account'),
        });
      }
    }
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: unscopedReason(spec, unscoped),
    });
  }

  /** The statements the role holds beyond the baseline (its declaration, or its hub side), for the tests. */
  declaredStatements(context: IamContext): readonly Statement[] {
    return this.declared.statements(context);
  }

  /**
   * Denies the role's writes on Cordon's own roles and functions and on the
   * break-glass principals, by exact ARN (`fences` in functions/shared/iam.ts),
   * in a policy of its own: the function depends on its role's default
   * policy, so naming functions there would be a cycle; nothing depends on
   * this one. A role with no IAM or Lambda write gets none.
   */
  fence(targets: FenceTargets): void {
    const statements = fences(this.declared, targets);
    if (statements.length === 0) return;
    const policy = new iam.Policy(this, 'Fences', {
      statements: statements.map(render),
    });
    policy.attachToRole(this.role);
  }

  /** Adds environment variables that name resources created after the function. */
  addEnvironment(variables: Readonly<Record<string, string>>): void {
    for (const [key, value] of Object.entries(variables)) this.function.addEnvironment(key, value);
  }
}

/**
 * Organization-wide, the spoke roles one hub function may assume: its own,
 * in the accounts in scope, and nothing else.
 */
export interface SpokeAccess {
  /** The ARNs of its spoke role in every account in scope (`*` for the account when every member is). */
  readonly spokeRoleArns: readonly string[];
  /** Its spoke role in the excluded accounts: denied, whatever the ARNs above match. */
  readonly excludedRoleArns: readonly string[];
  /** The hub's organization: a role outside it is never assumed, whatever its ARN. */
  readonly organizationId: string;
  /**
   * It asks Organizations whether an account is an active member (triage,
   * when the accounts in scope are `"*"`). @default false
   */
  readonly describesMembers?: boolean;
  /** Every region the hub acts in: its own, then `organization.regions`. */
  readonly regions: readonly string[];
}

/**
 * A declaration whose statements on the account's own resources name each
 * of `regions` (as the spoke roles' do), the rest as declared.
 */
function acrossHubRegions(spec: RoleSpec, stack: Stack, regions: readonly string[]): RoleSpec {
  const target = targetSide(spec);
  const hub = hubSide(spec);
  return {
    ...spec,
    statements: (ctx) => [
      ...acrossRegions(
        regions,
        (region) => new StackArns(stack, region),
        (arn) => target.statements({ ...ctx, arn }),
      ),
      ...hub.statements(ctx),
    ],
  };
}

/**
 * AssumeRole on the function's own spoke roles, only inside the
 * organization (`aws:ResourceOrgID`), only with a source identity of the
 * incident id's shape, which it must set (`sts:SetSourceIdentity`, which
 * the spoke roles' trust requires; IAM gives that call no resource-level
 * organization key, so AssumeRole's statement is the one that says where);
 * both denied in the excluded accounts. No `sts:TagSession`: the sessions
 * carry no tags.
 */
function assumingSpokes(access: SpokeAccess): Statement[] {
  const incident = { StringLike: { 'sts:SourceIdentity': SOURCE_IDENTITY_PATTERN } };
  const wildcard =
    'Its own spoke role in every member account of the organization (aws:ResourceOrgID): the accounts are every member, so the account is "*"';
  return [
    {
      ...allow(['sts:AssumeRole'], access.spokeRoleArns, {
        StringEquals: { 'aws:ResourceOrgID': access.organizationId },
        ...incident,
      }),
      wildcard,
    },
    { ...allow(['sts:SetSourceIdentity'], access.spokeRoleArns, incident), wildcard },
    ...(access.excludedRoleArns.length > 0
      ? [deny(['sts:AssumeRole', 'sts:SetSourceIdentity'], access.excludedRoleArns)]
      : []),
    ...(access.describesMembers
      ? [
          {
            ...allow(
              ['organizations:DescribeAccount'],
              [`arn:${Aws.PARTITION}:organizations::*:account/${access.organizationId}/*`],
            ),
            wildcard:
              'Every member account of the hub organization: the accounts in scope are "*"; the management account in the ARN is not known to the hub',
          },
        ]
      : []),
  ];
}

/** A declared statement as CDK's. */
export function render(statement: Statement): iam.PolicyStatement {
  return new iam.PolicyStatement({
    effect: statement.effect === 'Deny' ? iam.Effect.DENY : iam.Effect.ALLOW,
    actions: [...statement.actions],
    resources: [...statement.resources],
    ...(statement.conditions ? { conditions: { ...statement.conditions } } : {}),
  });
}

/**
 * The cdk-nag acknowledgement of a role's `Resource: "*"`: every call it
 * holds there (its declaration's and the baseline's tracing), grouped by reason.
 */
function unscopedReason(spec: FunctionSpec, unscoped: Readonly<Record<string, string>>): string {
  const byReason = new Map<string, string[]>();
  for (const [call, why] of Object.entries({ ...unscoped, ...BASELINE_UNSCOPED })) {
    byReason.set(why, [...(byReason.get(why) ?? []), call]);
  }
  const calls = [...byReason].map(([why, names]) => `${names.join(', ')}: ${why}`);
  return `Resource "*" only for calls IAM scopes to nothing narrower (functions/${spec.dir}/iam.ts): ${calls.join('; ')}`;
}

/** A resource as cdk-nag names it in a finding id: intrinsics as `<Ref>`. */
export function nagForm(stack: Stack, arn: string): string {
  const render = (value: unknown): string => {
    if (typeof value === 'string') return value;
    if (value && typeof value === 'object') {
      const [key, arg] = Object.entries(value)[0] ?? [];
      if (key === 'Ref' && typeof arg === 'string') return `<${arg}>`;
      if (key === 'Fn::GetAtt' && Array.isArray(arg)) return `<${arg.join('.')}>`;
      if (key === 'Fn::Join' && Array.isArray(arg) && Array.isArray(arg[1])) {
        return arg[1].map(render).join(String(arg[0]));
      }
    }
    return JSON.stringify(value);
  };
  return render(stack.resolve(arn));
}
