/**
 * The default Cordon stack, synthesized ONCE per test process and shared.
 *
 * Synthesis with bundling takes ~25 s on 2 cores, so layer-2 (infra) tests
 * skip bundling (`aws:cdk:bundling-stacks: []`; CI runs `cdk synth` for the
 * bundles) and memoize the result: every call in one vitest file (one module
 * graph) returns the same template. Keep infra assertions in few files.
 * CDK's built-in CloudFormation validation is off here (it alone takes ~5 s);
 * the cdk-nag test and `cdk synth` in CI run it.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { z } from 'zod';
import { ENV } from '../../functions/shared/runtime-config.js';
import { buildApp } from '../../infra/build.js';
import { cdkJsonContext } from '../../rehearsal/synth.js';

export const TEST_ACCOUNT = '123456789012';
export const TEST_REGION = 'us-east-1';

export interface SynthesizedStack {
  /** For `Match` / `Capture` assertions. */
  readonly template: Template;
  /** The raw CloudFormation JSON, for walking every resource. */
  readonly json: CfnTemplate;
  /** Wall-clock milliseconds the synthesis took. */
  readonly synthMs: number;
}

const CfnResourceSchema = z.looseObject({
  Type: z.string(),
  Properties: z.record(z.string(), z.unknown()).optional(),
  DeletionPolicy: z.string().optional(),
  UpdateReplacePolicy: z.string().optional(),
});
export type CfnResource = z.infer<typeof CfnResourceSchema>;

const CfnTemplateSchema = z.looseObject({
  Resources: z.record(z.string(), CfnResourceSchema),
});
export type CfnTemplate = z.infer<typeof CfnTemplateSchema>;

/**
 * cdk.json's context with the test account and region, plus `overrides`
 * merged into the `cordon` key.
 */
export function testContext(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base = cdkJsonContext();
  const cordon = z
    .record(z.string(), z.unknown())
    .catch({})
    .parse(base.cordon ?? {});
  return {
    ...base,
    cordon: { ...cordon, account: TEST_ACCOUNT, region: TEST_REGION, ...overrides },
    'aws:cdk:bundling-stacks': [],
  };
}

export interface TestAppOptions {
  /** Merged into the `cordon` context. @default none */
  readonly overrides?: Record<string, unknown>;
  /** Cloud assembly directory. @default a temporary directory */
  readonly outdir?: string;
  /**
   * Run CDK's built-in CloudFormation validation (cfn-guard in WASM, ~5 s
   * of a synthesis here). `cdk synth` in CI and the cdk-nag test keep it on.
   * @default false
   */
  readonly builtinValidation?: boolean;
}

/** A fresh, unsynthesized app holding the default stack (bundling skipped). */
export function buildTestApp(options: TestAppOptions = {}): {
  app: App;
  stackName: string;
} {
  const app = new App({
    context: testContext(options.overrides),
    builtinCloudFormationValidation: options.builtinValidation ?? false,
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const stack = buildApp(app);
  return { app, stackName: stack.stackName };
}

let cached: SynthesizedStack | undefined;

/** The default stack's template, synthesized on first call, then memoized. */
export function defaultTemplate(): SynthesizedStack {
  if (cached) return cached;
  const started = performance.now();
  const { app, stackName } = buildTestApp();
  const raw: unknown = app.synth().getStackByName(stackName).template;
  const json = CfnTemplateSchema.parse(raw);
  cached = {
    template: Template.fromJSON(json as Record<string, unknown>),
    json,
    synthMs: Math.round(performance.now() - started),
  };
  return cached;
}

/** The resources of one CloudFormation type, by logical id. */
export function resourcesOfType(json: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}

/** One Cordon function in the template: its action (from its environment) and role. */
export interface FunctionInfo {
  /** Logical id of the AWS::Lambda::Function. */
  readonly id: string;
  /** The action it performs (`CORDON_ACTION`). */
  readonly action: string;
  /** Logical id of its execution role. */
  readonly roleId: string;
  /** Logical id of its log group, when it names one. */
  readonly logGroupId: string | undefined;
  readonly properties: Record<string, unknown>;
  readonly env: Record<string, unknown>;
}

const GetAttArnSchema = z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) });

/** Every Lambda function of the template, with the action its environment names. */
export function actionFunctions(json: CfnTemplate): FunctionInfo[] {
  return resourcesOfType(json, 'AWS::Lambda::Function').map(([id, resource]) => {
    const properties = resource.Properties ?? {};
    const env = z
      .object({ Variables: z.record(z.string(), z.unknown()) })
      .parse(properties.Environment).Variables;
    const logGroup = z
      .object({ LogGroup: z.object({ Ref: z.string() }) })
      .safeParse(properties.LoggingConfig);
    return {
      id,
      action: z.string().parse(env[ENV.action]),
      roleId: GetAttArnSchema.parse(properties.Role)['Fn::GetAtt'][0],
      logGroupId: logGroup.success ? logGroup.data.LogGroup.Ref : undefined,
      properties,
      env,
    };
  });
}

/* ------------------------------------------------------------------ */
/* Policies                                                            */
/* ------------------------------------------------------------------ */

const StatementSchema = z.looseObject({
  Sid: z.string().optional(),
  Effect: z.enum(['Allow', 'Deny']),
  Action: z.union([z.string(), z.array(z.string())]).optional(),
  NotAction: z.unknown().optional(),
  Resource: z.unknown().optional(),
  NotResource: z.unknown().optional(),
  Principal: z.unknown().optional(),
  Condition: z.unknown().optional(),
});
export type PolicyStatement = z.infer<typeof StatementSchema>;

const DocumentSchema = z.looseObject({ Statement: z.array(StatementSchema) });
const RefsSchema = z.array(z.object({ Ref: z.string() }));

export interface PolicyDocumentSite {
  /** Logical id of the resource holding the document. */
  readonly resourceId: string;
  readonly resourceType: string;
  /** Logical ids of the roles an identity policy applies to (empty for resource policies). */
  readonly roles: readonly string[];
  readonly statements: readonly PolicyStatement[];
}

const documentsCache = new WeakMap<CfnTemplate, PolicyDocumentSite[]>();

/** Every policy document in the template: identity, inline and resource policies. */
export function policyDocuments(json: CfnTemplate): PolicyDocumentSite[] {
  const cachedSites = documentsCache.get(json);
  if (cachedSites) return cachedSites;
  const sites: PolicyDocumentSite[] = [];
  documentsCache.set(json, sites);
  for (const [id, resource] of Object.entries(json.Resources)) {
    const props = resource.Properties ?? {};
    const add = (document: unknown, roles: readonly string[]) => {
      sites.push({
        resourceId: id,
        resourceType: resource.Type,
        roles,
        statements: DocumentSchema.parse(document).Statement,
      });
    };
    switch (resource.Type) {
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
        add(
          props.PolicyDocument,
          RefsSchema.catch([])
            .parse(props.Roles ?? [])
            .map((r) => r.Ref),
        );
        break;
      case 'AWS::IAM::Role':
        for (const inline of z
          .array(z.looseObject({ PolicyDocument: z.unknown() }))
          .parse(props.Policies ?? [])) {
          add(inline.PolicyDocument, [id]);
        }
        break;
      case 'AWS::KMS::Key':
        add(props.KeyPolicy, []);
        break;
      case 'AWS::SNS::TopicPolicy':
      case 'AWS::SQS::QueuePolicy':
        add(props.PolicyDocument, []);
        break;
      default:
        break;
    }
  }
  return sites;
}

/** A statement's actions as a list. */
export function actionsOf(statement: PolicyStatement): string[] {
  if (statement.Action === undefined) return [];
  return typeof statement.Action === 'string' ? [statement.Action] : [...statement.Action];
}

/** True when the IAM action pattern (`*`, `?` wildcards) matches `action`. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${regex}$`, 'i').test(action);
}

/* ------------------------------------------------------------------ */
/* State machine definitions                                           */
/* ------------------------------------------------------------------ */

/**
 * A state machine's DefinitionString as JSON: the `Fn::Join` parts joined,
 * each intrinsic replaced by a placeholder: `${GetAtt:<id>.<attr>}`,
 * `${Ref:<id>}` or `<Intrinsic>` (ids are looked up, never asserted).
 */
export function renderDefinition(definitionString: unknown): unknown {
  if (typeof definitionString === 'string') return JSON.parse(definitionString);
  const join = z
    .object({ 'Fn::Join': z.tuple([z.literal(''), z.array(z.unknown())]) })
    .parse(definitionString);
  const text = join['Fn::Join'][1].map(placeholder).join('');
  return JSON.parse(text);
}

function placeholder(part: unknown): string {
  if (typeof part === 'string') return part;
  const getAtt = z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.string()]) }).safeParse(part);
  if (getAtt.success) return `\${GetAtt:${getAtt.data['Fn::GetAtt'].join('.')}}`;
  const ref = z.object({ Ref: z.string() }).safeParse(part);
  if (ref.success) return `\${Ref:${ref.data.Ref}}`;
  return '<Intrinsic>';
}

/** A statement's resources as a list. */
export function resourcesOf(statement: PolicyStatement): unknown[] {
  if (statement.Resource === undefined) return [];
  return Array.isArray(statement.Resource) ? [...statement.Resource] : [statement.Resource];
}

/**
 * A resource ARN as text: `Fn::Join` parts joined, `Ref`s as `<Name>` and
 * `Fn::GetAtt`s as `<Id.Attr>` (the form cdk-nag uses in its finding ids).
 */
export function renderArn(value: unknown): string {
  if (typeof value === 'string') return value;
  const ref = z.object({ Ref: z.string() }).safeParse(value);
  if (ref.success) return `<${ref.data.Ref}>`;
  const getAtt = z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.string()]) }).safeParse(value);
  if (getAtt.success) return `<${getAtt.data['Fn::GetAtt'].join('.')}>`;
  const join = z.object({ 'Fn::Join': z.tuple([z.string(), z.array(z.unknown())]) }).parse(value);
  return join['Fn::Join'][1].map(renderArn).join(join['Fn::Join'][0]);
}

/* ------------------------------------------------------------------ */
/* State machine states                                                */
/* ------------------------------------------------------------------ */

const CatcherSchema = z.looseObject({ ErrorEquals: z.array(z.string()), Next: z.string() });
const RetrierSchema = z.looseObject({ ErrorEquals: z.array(z.string()) });

export interface State {
  readonly Type: string;
  readonly Next?: string | undefined;
  readonly Resource?: string | undefined;
  readonly Parameters?: Record<string, unknown> | undefined;
  readonly ResultPath?: string | null | undefined;
  readonly TimeoutSeconds?: number | undefined;
  readonly TimeoutSecondsPath?: string | undefined;
  readonly Retry?: z.infer<typeof RetrierSchema>[] | undefined;
  readonly Catch?: z.infer<typeof CatcherSchema>[] | undefined;
  readonly Branches?: Definition[] | undefined;
  readonly ItemProcessor?: Definition | undefined;
  readonly Iterator?: Definition | undefined;
  /** Choice states: their rules and where anything else goes. */
  readonly Choices?: Record<string, unknown>[] | undefined;
  readonly Default?: string | undefined;
}

export interface Definition {
  readonly StartAt: string;
  readonly States: Record<string, State>;
}

const DefinitionSchema: z.ZodType<Definition> = z.lazy(() =>
  z.looseObject({
    StartAt: z.string(),
    States: z.record(
      z.string(),
      z.looseObject({
        Type: z.string(),
        Next: z.string().optional(),
        Resource: z.string().optional(),
        Parameters: z.record(z.string(), z.unknown()).optional(),
        ResultPath: z.string().nullable().optional(),
        TimeoutSeconds: z.number().optional(),
        TimeoutSecondsPath: z.string().optional(),
        Retry: z.array(RetrierSchema).optional(),
        Catch: z.array(CatcherSchema).optional(),
        Branches: z.array(DefinitionSchema).optional(),
        ItemProcessor: DefinitionSchema.optional(),
        Iterator: DefinitionSchema.optional(),
        Choices: z.array(z.record(z.string(), z.unknown())).optional(),
        Default: z.string().optional(),
      }),
    ),
  }),
);

/** A state machine's definition, parsed from its DefinitionString. */
export function parseDefinition(definitionString: unknown): Definition {
  return DefinitionSchema.parse(renderDefinition(definitionString));
}

/** Every state, including those inside Parallel branches and Map processors. */
export function allStates(definition: Definition): [string, State][] {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...[
      ...(state.Branches ?? []),
      ...(state.ItemProcessor ? [state.ItemProcessor] : []),
      ...(state.Iterator ? [state.Iterator] : []),
    ].flatMap(allStates),
  ]);
}
