import './polyfill.js';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StateMachine } from 'aws-local-stepfunctions';
import { z } from 'zod';
import { functionNamed } from '../../functions/registry.js';
import { DecisionResponseSchema } from '../../functions/responder-api/contract.js';
import {
  APPROVALS_PARTITION_KEY,
  APPROVALS_SORT_KEY,
} from '../../functions/responder-api/store.js';
import { documentClient } from '../../functions/shared/aws.js';
import { GUARDRAILS_PARTITION_KEY } from '../../functions/shared/breaker.js';
import { ROLLBACK_MACHINE } from '../../functions/shared/catalog.js';
import { orphanIncidentId } from '../../functions/shared/incident.js';
import {
  LEDGER_PARTITION_KEY,
  LEDGER_SORT_KEY,
  Ledger,
  type LedgerEntry,
} from '../../functions/shared/ledger.js';
import { ENV } from '../../functions/shared/runtime-config.js';
import { matchesEventPattern } from './event-pattern.js';
import { findingSource } from './finding-source.js';
import { callerAccount, ensureParameter, ensureTable, ensureTopic } from './local-aws.js';
import { functionUrlEvent, rehearsalResponders, taskTokens } from './responder.js';
import { REPO_ROOT, synthesizeTemplate } from './synth.js';
import {
  type LocalValues,
  type RehearsalModel,
  readTemplate,
  type TemplateFunction,
  type TemplateStateMachine,
} from './template.js';

/**
 * The rehearsal engine: synthesizes the app exactly as `cdk synth` does,
 * matches an event against the synthesized rule patterns, and executes the
 * matching state machine definitions locally, running each Lambda task's
 * real handler in-process against wherever the SDK points
 * (`AWS_ENDPOINT_URL`). An approval wait runs the real request-approval
 * handler (which stores the token), then emulated responders decide through
 * the real approval endpoint handler, whose SendTaskSuccess/Failure reaches
 * a local stand-in for Step Functions' task-token API. Triage's re-reads of
 * a finding from GuardDuty or Security Hub are answered by a local stand-in
 * holding the rehearsed events' findings (finding-source.ts).
 */

export type JSONValue =
  | string
  | number
  | boolean
  | null
  | JSONValue[]
  | { [key: string]: JSONValue };
type EventLog =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export const DECISIONS = ['approve', 'reject', 'timeout'] as const;
export type Decision = (typeof DECISIONS)[number];

export interface ApprovalRequest {
  readonly step: string;
  readonly incidentId: string;
  readonly executionArn: string;
  readonly taskToken: string;
  /**
   * What the approval endpoint sends Step Functions for this wait: the
   * SendTaskSuccess output, or a rejection with SendTaskFailure's error name.
   * A decider that lets real responders decide (through the endpoint)
   * returns this.
   */
  readonly delivery: Promise<JSONValue>;
}

/**
 * Emulates the responder: returns the SendTaskSuccess output, or throws an
 * error whose `name` is what SendTaskFailure (or the timeout) would raise.
 */
export type ApprovalDecider = (request: ApprovalRequest) => Promise<JSONValue>;

export interface RehearsalOptions {
  /** Home account. @default from STS GetCallerIdentity */
  readonly account?: string;
  /** @default AWS_REGION, else us-east-1 */
  readonly region?: string;
  /** CDK context instead of cdk.json's. */
  readonly context?: Record<string, unknown>;
  /** @default 'cordon-ledger' */
  readonly ledgerTableName?: string;
  /** @default 'cordon-approvals' */
  readonly approvalsTableName?: string;
  /** @default 'cordon-guardrails' */
  readonly guardrailsTableName?: string;
  /** @default 'cordon-notifications' */
  readonly topicName?: string;
  /**
   * How emulated responders decide, through the approval endpoint; a
   * function is asked at each approval. @default 'timeout' (nobody answers)
   */
  readonly decision?: Decision | (() => Decision);
  /** A custom decider that bypasses the endpoint; overrides `decision`. */
  readonly decide?: ApprovalDecider;
  /**
   * Variables added to every function's environment, over the template's
   * (`CORDON_RUNTIME_MODE_CACHE_SECONDS`, say). @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
}

export interface ExecutionReport {
  readonly playbook: string;
  readonly executionArn: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: JSONValue;
  readonly error?: { readonly Error: string; readonly Cause: string };
  /** Every state entered, in order (retries enter a state once). */
  readonly states: string[];
  /** Ledger entries this execution wrote. */
  readonly ledger: LedgerEntry[];
}

export interface ReplayOptions {
  /**
   * Whether the event's findings are held at their source (GuardDuty,
   * Security Hub) for triage to re-read. False replays an event its source
   * never emitted: a forged one. @default true
   */
  readonly atSource?: boolean;
}

export interface EventReport {
  readonly matched: string[];
  readonly executions: ExecutionReport[];
}

class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** A table the rehearsal creates, as the template declares it. */
interface LocalTable {
  readonly name: string;
  readonly properties: unknown;
}

/** What a rehearsal creates where the SDK points, if missing. */
interface LocalResources {
  readonly tables: readonly LocalTable[];
  readonly topicName: string;
  /** SSM parameters (the runtime mode) with their template values. */
  readonly parameters: readonly { readonly name: string; readonly value: string }[];
}

/** How long an emulated responder's decision may take to reach the waiting task. */
const DELIVERY_TIMEOUT_MS = 30_000;
const HandlerFactory = z.custom<(env: Record<string, string>) => Handler>(
  (v) => typeof v === 'function',
  'a handler factory must be a function',
);

export class RehearsalEngine {
  private readonly handlers = new Map<string, Handler>();
  private readonly decide: ApprovalDecider;

  private constructor(
    readonly model: RehearsalModel,
    readonly values: LocalValues,
    private readonly ledger: Ledger,
    private readonly resources: LocalResources,
    private readonly options: Pick<RehearsalOptions, 'decide' | 'decision' | 'environment'>,
  ) {
    const decision = options.decision ?? 'timeout';
    this.decide =
      options.decide ??
      ((request) => this.respond(typeof decision === 'function' ? decision() : decision, request));
  }

  static async create(options: RehearsalOptions = {}): Promise<RehearsalEngine> {
    const account = options.account ?? (await callerAccount());
    const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    const partition = region.startsWith('cn-')
      ? 'aws-cn'
      : region.startsWith('us-gov-')
        ? 'aws-us-gov'
        : 'aws';
    // Cordon's tables, told apart by their keys.
    const tableNames = {
      [`${LEDGER_PARTITION_KEY}:${LEDGER_SORT_KEY}`]: options.ledgerTableName ?? 'cordon-ledger',
      [`${APPROVALS_PARTITION_KEY}:${APPROVALS_SORT_KEY}`]:
        options.approvalsTableName ?? 'cordon-approvals',
      [`${GUARDRAILS_PARTITION_KEY}:`]: options.guardrailsTableName ?? 'cordon-guardrails',
    };
    const topicName = options.topicName ?? 'cordon-notifications';
    const topicArn = await ensureTopic(topicName);

    const template = synthesizeTemplate({
      account,
      region,
      ...(options.context ? { context: options.context } : {}),
    });
    const tables = templateTables(template, tableNames);
    const values: LocalValues = {
      account,
      region,
      partition,
      ref: (id, type) => {
        if (type === 'AWS::DynamoDB::GlobalTable' || type === 'AWS::DynamoDB::Table') {
          return tables.get(id)?.name;
        }
        if (type === 'AWS::SNS::Topic') return topicArn;
        if (type === 'AWS::StepFunctions::StateMachine') {
          return `arn:${partition}:states:${region}:${account}:stateMachine:${id}`;
        }
        return undefined;
      },
      getAtt: (id, type, attr) => {
        if (type === 'AWS::IAM::Role' && attr === 'Arn') {
          return `arn:${partition}:iam::${account}:role/cordon/rehearsal-${id}`;
        }
        if (type === 'AWS::Lambda::Url' && attr === 'FunctionUrl') {
          return `https://rehearsal-${id.toLowerCase()}.lambda-url.${region}.on.aws/`;
        }
        return undefined;
      },
    };
    const model = readTemplate(template, values);
    const resources: LocalResources = {
      tables: [...tables.values()],
      topicName,
      parameters: templateParameters(template),
    };
    for (const table of resources.tables) await ensureTable(table.name, table.properties);
    for (const p of resources.parameters) await ensureParameter(p.name, p.value);
    await taskTokens.start();
    await findingSource.start();

    const ledger = new Ledger({
      client: documentClient(),
      tableName: options.ledgerTableName ?? 'cordon-ledger',
    });
    return new RehearsalEngine(model, values, ledger, resources, options);
  }

  /**
   * Creates the tables, parameters and topic again if they are gone (an emulator reset
   * between tests); handlers keep their names, so they keep working.
   */
  async ensureResources(): Promise<void> {
    for (const table of this.resources.tables) await ensureTable(table.name, table.properties);
    for (const p of this.resources.parameters) await ensureParameter(p.name, p.value);
    await ensureTopic(this.resources.topicName);
  }

  /** The playbooks whose rules match `event`. */
  match(event: unknown): TemplateStateMachine[] {
    const ids = new Set<string>();
    for (const rule of this.model.rules) {
      if (matchesEventPattern(rule.eventPattern, event)) {
        for (const id of rule.stateMachineLogicalIds) ids.add(id);
      }
    }
    return [...ids].flatMap((id) => {
      const sm = this.model.stateMachines.get(id);
      return sm ? [sm] : [];
    });
  }

  async rehearse(event: unknown, options: ReplayOptions = {}): Promise<EventReport> {
    const machines = this.match(event);
    const executions: ExecutionReport[] = [];
    for (const machine of machines) executions.push(await this.execute(machine, event, options));
    return { matched: machines.map((m) => m.playbook), executions };
  }

  /**
   * Runs the rollback state machine on `input` (`{ incidentId, step?, force,
   * requestedBy, reason }`), as the approval endpoint's StartExecution would.
   */
  async rollback(input: unknown): Promise<ExecutionReport> {
    const machine = [...this.model.stateMachines.values()].find(
      (m) => m.playbook === ROLLBACK_MACHINE,
    );
    if (!machine) throw new Error('the template has no rollback state machine');
    return this.execute(machine, input);
  }

  /** Runs one state machine definition on `input`, as Step Functions would. */
  async execute(
    machine: TemplateStateMachine,
    input: unknown,
    options: ReplayOptions = {},
  ): Promise<ExecutionReport> {
    // The event's source holds its finding, as it would after emitting it.
    if (options.atSource !== false) findingSource.publish(input);
    const { account, region, partition } = this.values;
    const name = `rehearsal-${randomUUID()}`;
    const stateMachineName = `cordon-${machine.playbook}`;
    const executionArn = `arn:${partition}:states:${region}:${account}:execution:${stateMachineName}:${name}`;
    const startedAt = new Date();
    const definition = machine.definition as ConstructorParameters<typeof StateMachine>[0];
    const sm = new StateMachine(definition, { validationOptions: { checkArn: false } });
    const taskToken = `rehearsal-token-${randomUUID()}`;
    const eventInput = jsonValue(input);
    const run = sm.run(eventInput, {
      overrides: {
        taskResourceLocalHandlers: this.taskOverrides(machine.definition, executionArn),
        retryIntervalOverrides: retryOverrides(machine.definition),
      },
      context: {
        Execution: {
          Id: executionArn,
          Name: name,
          StartTime: startedAt.toISOString(),
          Input: eventInput,
          RoleArn: `arn:${partition}:iam::${account}:role/cordon/rehearsal`,
        },
        StateMachine: {
          Id: `arn:${partition}:states:${region}:${account}:stateMachine:${stateMachineName}`,
          Name: stateMachineName,
        },
        Task: { Token: taskToken },
      },
    });

    const events: EventLog[] = [];
    const collecting = (async () => {
      for await (const e of run.eventLogs) events.push(e);
    })();
    let output: JSONValue | undefined;
    let failed = false;
    try {
      output = await run.result;
    } catch {
      failed = true;
    }
    await collecting;

    const states = events.flatMap((e) => (e.type === 'StateEntered' ? [e.state.name] : []));
    const failure = events.find((e) => e.type === 'ExecutionFailed');
    const error =
      failure && failure.type === 'ExecutionFailed'
        ? { Error: failure.Error, Cause: String(failure.Cause ?? '') }
        : failed
          ? { Error: 'States.Runtime', Cause: 'execution failed' }
          : undefined;
    const ledger = await this.entriesWritten(events, executionArn);
    return {
      playbook: machine.playbook,
      executionArn,
      status: failed ? 'FAILED' : 'SUCCEEDED',
      ...(output !== undefined ? { output } : {}),
      ...(error ? { error } : {}),
      states,
      ledger,
    };
  }

  /** The entries this execution wrote: every entry carries its execution ARN. */
  private async entriesWritten(events: EventLog[], executionArn: string): Promise<LedgerEntry[]> {
    const ids = new Set<string>();
    for (const e of events) {
      if (e.type !== 'StateExited') continue;
      const parsed = z
        .union([
          z.object({ incident: z.object({ incidentId: z.string() }) }),
          z.object({ incidentId: z.string() }),
        ])
        .safeParse(e.state.output);
      if (parsed.success) {
        ids.add(
          'incident' in parsed.data ? parsed.data.incident.incidentId : parsed.data.incidentId,
        );
      }
    }
    if (ids.size === 0) {
      // Triage never produced an incident: failures are filed under the execution.
      ids.add(orphanIncidentId(executionArn));
    }
    const all = (await Promise.all([...ids].map((id) => this.ledger.entries(id)))).flat();
    return all.filter((entry) => entry.executionArn === executionArn);
  }

  private taskOverrides(definition: unknown, executionArn: string) {
    const overrides: Record<string, (input: JSONValue) => Promise<JSONValue>> = {};
    for (const [name, state] of taskStates(definition)) {
      const resource = state.Resource;
      const fn = this.model.functionsByArn.get(resource);
      if (fn) {
        overrides[name] = (input) => this.invoke(fn, input);
        continue;
      }
      const integration = /^arn:[\w-]+:states:::lambda:invoke(\.waitForTaskToken)?$/.exec(resource);
      if (!integration) {
        throw new Error(`state ${name}: rehearsal cannot run resource ${resource}`);
      }
      const waits = integration[1] !== undefined;
      overrides[name] = async (input) => {
        const { FunctionName, Payload } = z
          .object({ FunctionName: z.string(), Payload: z.unknown() })
          .parse(input);
        const target = this.model.functionsByArn.get(FunctionName);
        if (!target) throw new Error(`state ${name}: unknown function ${FunctionName}`);
        if (!waits) {
          const result = await this.invoke(target, jsonValue(Payload));
          return { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 };
        }
        // The local engine has one context token per execution: give each
        // wait its own, as Step Functions does.
        // A playbook step's approval, or a rollback's (its plan names the step).
        const request = z
          .union([
            z
              .object({ step: z.string(), incident: z.object({ incidentId: z.string() }) })
              .transform((p) => ({ step: p.step, incidentId: p.incident.incidentId })),
            z
              .object({
                rollback: z.object({
                  plan: z.object({ approvalStep: z.string(), incidentId: z.string() }),
                }),
              })
              .transform((p) => ({
                step: p.rollback.plan.approvalStep,
                incidentId: p.rollback.plan.incidentId,
              })),
          ])
          .parse(Payload);
        const taskToken = `rehearsal-token-${randomUUID()}`;
        const payload = z.record(z.string(), z.unknown()).parse(Payload);
        const waiting = taskTokens.expect(taskToken);
        const delivery = waiting.outcome.then((outcome) => {
          if (outcome.kind === 'failure') throw new NamedError(outcome.error, outcome.cause);
          return jsonValue(JSON.parse(outcome.output));
        });
        delivery.catch(() => undefined); // a decider that never delivers leaves it unobserved
        try {
          await this.invoke(target, jsonValue({ ...payload, taskToken }));
          return await this.decide({
            step: request.step,
            incidentId: request.incidentId,
            taskToken,
            executionArn,
            delivery,
          });
        } finally {
          waiting.cancel();
        }
      };
    }
    return overrides;
  }

  /**
   * The emulated responders decide `decision` on a waiting step through the
   * real approval endpoint handler (a second responder approves too when the
   * step needs two), and the task resumes with whatever that handler sent
   * to Step Functions. A timeout is nobody answering.
   */
  async respond(decision: Decision, request: ApprovalRequest): Promise<JSONValue> {
    if (decision === 'timeout') {
      throw new NamedError('States.Timeout', 'no decision before the approval timeout');
    }
    const [first, second] = rehearsalResponders(
      this.values.partition,
      this.values.account,
    ).sessions;
    const verb = decision === 'approve' ? 'approved' : 'rejected';
    let response = await this.callEndpoint(first, {
      incidentId: request.incidentId,
      step: request.step,
      decision,
      reason: `${verb} in rehearsal`,
    });
    if (response.status === 'AWAITING_SECOND_APPROVER') {
      response = await this.callEndpoint(second, {
        incidentId: request.incidentId,
        step: request.step,
        decision,
        reason: `${verb} in rehearsal (second responder)`,
      });
    }
    return Promise.race([
      request.delivery,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`step ${request.step}: the decision never reached the task`)),
          DELIVERY_TIMEOUT_MS,
        ).unref(),
      ),
    ]);
  }

  /** A signed decision as the approval function URL would receive it. */
  private async callEndpoint(callerArn: string, body: Record<string, string>) {
    const fn = [...this.model.functions.values()].find((f) => f.action === 'responder-api');
    if (!fn) throw new Error('the template has no approval function');
    const { role } = rehearsalResponders(this.values.partition, this.values.account);
    const configured = z
      .array(z.string())
      .parse(JSON.parse(fn.environment[ENV.responders] ?? '[]'));
    const handler = await this.handler({
      ...fn,
      environment: { ...fn.environment, [ENV.responders]: JSON.stringify([...configured, role]) },
    });
    const result = z.object({ statusCode: z.number(), body: z.string() }).parse(
      await handler(
        functionUrlEvent({
          callerArn,
          account: this.values.account,
          method: 'POST',
          path: '/decisions',
          body,
        }),
        lambdaContext(fn),
      ),
    );
    if (result.statusCode !== 200) {
      throw new Error(`approval endpoint answered ${result.statusCode}: ${result.body}`);
    }
    return DecisionResponseSchema.parse(JSON.parse(result.body));
  }

  /** Invokes a handler as Lambda would: JSON in, JSON out, errors by name. */
  private async invoke(fn: TemplateFunction, input: JSONValue): Promise<JSONValue> {
    const handler = await this.handler(fn);
    try {
      const out = await handler(structuredClone(input), lambdaContext(fn));
      return jsonValue(out ?? null);
    } catch (error) {
      const errorType = error instanceof Error ? error.name : 'Error';
      const errorMessage = error instanceof Error ? error.message : String(error);
      throw new NamedError(errorType, JSON.stringify({ errorType, errorMessage }));
    }
  }

  private async handler(fn: TemplateFunction): Promise<Handler> {
    const cached = this.handlers.get(fn.logicalId);
    if (cached) return cached;
    // The function's own factory, given the environment the template gives it:
    // what Lambda would build at cold start, without touching process.env.
    const spec = functionNamed(fn.action);
    const file = pathToFileURL(join(REPO_ROOT, 'functions', spec.dir, spec.factory.module)).href;
    const module = z.record(z.string(), z.unknown()).parse(await import(/* @vite-ignore */ file));
    const factory = HandlerFactory.parse(module[spec.factory.name]);
    const handler = factory({
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
      ...fn.environment,
      ...this.options.environment,
    });
    this.handlers.set(fn.logicalId, handler);
    return handler;
  }
}

const StateSchema = z.looseObject({
  Type: z.string(),
  Resource: z.string().optional(),
  Retry: z.array(z.unknown()).optional(),
  Branches: z.array(z.unknown()).optional(),
  ItemProcessor: z.unknown().optional(),
  Iterator: z.unknown().optional(),
});
const DefinitionSchema = z.looseObject({ States: z.record(z.string(), StateSchema) });

function* allStates(definition: unknown): Generator<[string, z.infer<typeof StateSchema>]> {
  const parsed = DefinitionSchema.parse(definition);
  for (const [name, state] of Object.entries(parsed.States)) {
    yield [name, state];
    for (const branch of state.Branches ?? []) yield* allStates(branch);
    if (state.ItemProcessor) yield* allStates(state.ItemProcessor);
    if (state.Iterator) yield* allStates(state.Iterator);
  }
}

function* taskStates(definition: unknown): Generator<[string, { Resource: string }]> {
  for (const [name, state] of allStates(definition)) {
    if (state.Type === 'Task' && state.Resource) yield [name, { Resource: state.Resource }];
  }
}

/** Retries happen, but without the real backoff delays. */
function retryOverrides(definition: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, state] of allStates(definition)) if (state.Retry) out[name] = 0;
  return out;
}

const JsonSchema: z.ZodType<JSONValue> = z.json();

function jsonValue(value: unknown): JSONValue {
  return JsonSchema.parse(JSON.parse(JSON.stringify(value ?? null)));
}

function lambdaContext(fn: TemplateFunction) {
  return {
    functionName: fn.logicalId,
    functionVersion: '$LATEST',
    invokedFunctionArn: fn.arn,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn.logicalId}`,
    logStreamName: 'rehearsal',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const TableProperties = z.looseObject({
  KeySchema: z.array(z.object({ AttributeName: z.string(), KeyType: z.string() })),
});

/** Cordon's tables in the template, named locally by their keys (`<hash>:<range>`). */
function templateTables(
  template: unknown,
  names: Readonly<Record<string, string>>,
): Map<string, LocalTable> {
  const resources = z
    .record(z.string(), z.looseObject({ Type: z.string(), Properties: z.unknown() }))
    .parse(z.looseObject({ Resources: z.unknown() }).parse(template).Resources);
  const tables = new Map<string, LocalTable>();
  for (const [id, resource] of Object.entries(resources)) {
    if (
      resource.Type !== 'AWS::DynamoDB::GlobalTable' &&
      resource.Type !== 'AWS::DynamoDB::Table'
    ) {
      continue;
    }
    const properties = TableProperties.parse(resource.Properties);
    const key = (type: string) =>
      properties.KeySchema.find((k) => k.KeyType === type)?.AttributeName ?? '';
    const name = names[`${key('HASH')}:${key('RANGE')}`];
    if (!name) throw new Error(`rehearsal does not know table ${id}`);
    tables.set(id, { name, properties });
  }
  return tables;
}

/** The template's SSM parameters (literal names and values only). */
function templateParameters(template: unknown): { name: string; value: string }[] {
  const resources = z
    .record(z.string(), z.looseObject({ Type: z.string(), Properties: z.unknown() }))
    .parse(z.looseObject({ Resources: z.unknown() }).parse(template).Resources);
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::SSM::Parameter')
    .map((r) => {
      const { Name, Value } = z.object({ Name: z.string(), Value: z.string() }).parse(r.Properties);
      return { name: Name, value: Value };
    });
}
