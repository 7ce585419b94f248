import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ApprovalSettingsSchema } from '../functions/request-approval/core.js';
import type { DismissResponse } from '../functions/responder-api/contract.js';
import { APPROVALS_PARTITION_KEY, APPROVALS_SORT_KEY } from '../functions/responder-api/store.js';
import { documentClient } from '../functions/shared/aws.js';
import { GUARDRAILS_PARTITION_KEY } from '../functions/shared/breaker.js';
import { ROLLBACK_MACHINE } from '../functions/shared/catalog.js';
import { orphanIncidentId } from '../functions/shared/incident.js';
import {
  LEDGER_PARTITION_KEY,
  LEDGER_SORT_KEY,
  Ledger,
  type LedgerEntry,
} from '../functions/shared/ledger.js';
import { KmsLedgerMac } from '../functions/shared/ledger-mac.js';
import { ENV } from '../functions/shared/runtime-config.js';
import { partitionOfRegion } from '../functions/triage/parse/arn.js';
import {
  type ApprovalDecider,
  type ApprovalRequest,
  admitRehearsalResponders,
  approvalWait,
  type Decision,
  EmulatedResponders,
  rehearsalClock,
  rehearsalResponders,
  taskTokens,
} from './approvals.js';
import { inTask, outsideTasks } from './calls.js';
import { runDefinition, type TaskHandler, taskStates } from './definitions.js';
import { matchesEventPattern } from './event-pattern.js';
import { findingSource } from './finding-source.js';
import { FunctionHost, type JSONValue, jsonValue } from './functions.js';
import {
  callerAccount,
  ensureResources,
  type LocalNames,
  type LocalResources,
  localResources,
} from './resources.js';
import { synthesizeTemplate } from './synth.js';
import {
  type LocalValues,
  type RehearsalModel,
  readTemplate,
  stateMachineName,
  type TemplateFunction,
  type TemplateStateMachine,
} from './template.js';

export {
  type ApprovalDecider,
  type ApprovalRequest,
  DECISIONS,
  type Decision,
} from './approvals.js';
export type { JSONValue } from './functions.js';

/**
 * The rehearsal engine: synthesizes the app exactly as `cdk synth` does,
 * matches an event against the synthesized rule patterns, and executes the
 * matching state machine definitions locally (definitions.ts), running each
 * Lambda task's real handler in-process (functions.ts) against wherever the
 * SDK points (`AWS_ENDPOINT_URL`), approvals through the real approval path
 * (approvals.ts), in the resources it creates there (resources.ts).
 * Triage's re-reads of a finding from GuardDuty or Security Hub are answered
 * by a local stand-in holding the rehearsed events' findings
 * (finding-source.ts).
 */

/** Where a rehearsal keeps Cordon's tables and topic, wherever the SDK points. */
export const LOCAL_NAMES: LocalNames = {
  // Cordon's tables, told apart by their keys.
  tables: {
    [`${LEDGER_PARTITION_KEY}:${LEDGER_SORT_KEY}`]: 'cordon-ledger',
    [`${APPROVALS_PARTITION_KEY}:${APPROVALS_SORT_KEY}`]: 'cordon-approvals',
    [`${GUARDRAILS_PARTITION_KEY}:`]: 'cordon-guardrails',
  },
  topicName: 'cordon-notifications',
};

export interface RehearsalOptions {
  /** Home account. @default from STS GetCallerIdentity */
  readonly account?: string;
  /** @default AWS_REGION, else us-east-1 */
  readonly region?: string;
  /** CDK context instead of cdk.json's. */
  readonly context?: Record<string, unknown>;
  /**
   * How emulated responders decide, through the responder API; a function
   * is asked at each approval, with what waits, while it waits (so it may
   * also act on the target meanwhile, as someone else could).
   * @default 'timeout' (nobody answers)
   */
  readonly decision?: Decision | ((request: ApprovalRequest) => Decision | Promise<Decision>);
  /** A custom decider that bypasses the responder API; overrides `decision`. */
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

const LAMBDA_INVOKE = /^arn:[\w-]+:states:::lambda:invoke(\.waitForTaskToken)?$/;

export class RehearsalEngine {
  private readonly decide: ApprovalDecider;
  private readonly responders: EmulatedResponders;

  private constructor(
    readonly model: RehearsalModel,
    readonly values: LocalValues,
    private readonly ledger: Ledger,
    /** The ledger key, as the functions are given it (for a handler a test wires itself). */
    readonly ledgerKey: string,
    private readonly resources: LocalResources,
    private readonly host: FunctionHost,
    options: Pick<RehearsalOptions, 'decide' | 'decision'>,
  ) {
    const decision = options.decision ?? 'timeout';
    const functions = [...model.functions.values()];
    const settings = functions.find((f) => f.action === 'request-approval')?.environment[
      ENV.approvalSettings
    ];
    const responders = new EmulatedResponders(
      host,
      functions.find((f) => f.action === 'responder-api'),
      values,
      settings === undefined
        ? 0
        : ApprovalSettingsSchema.parse(JSON.parse(settings)).timeoutSeconds,
    );
    this.responders = responders;
    this.decide =
      options.decide ??
      (async (request) =>
        responders.respond(
          typeof decision === 'function' ? await decision(request) : decision,
          request,
        ));
  }

  static async create(options: RehearsalOptions = {}): Promise<RehearsalEngine> {
    const account = options.account ?? (await callerAccount());
    const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    const partition = partitionOfRegion(region);
    const template = synthesizeTemplate({
      account,
      region,
      ...(options.context ? { context: options.context } : {}),
    });
    const resources = localResources(template, LOCAL_NAMES);
    const topicArn = await ensureResources(resources);
    const values: LocalValues = {
      account,
      region,
      partition,
      ref: (id, type) => {
        if (type === 'AWS::DynamoDB::GlobalTable' || type === 'AWS::DynamoDB::Table') {
          return resources.tables.get(id)?.name;
        }
        if (type === 'AWS::SNS::Topic') return topicArn;
        if (type === 'AWS::KMS::Key') return resources.keys.get(id)?.alias;
        // The anchors bucket: named, not created; no state machine runs the
        // anchor function, whose stream the rehearsal does not emulate.
        if (type === 'AWS::S3::Bucket') return `rehearsal-${id.toLowerCase()}`;
        if (type === 'AWS::StepFunctions::StateMachine') {
          return `arn:${partition}:states:${region}:${account}:stateMachine:${stateMachineName(template, id)}`;
        }
        return undefined;
      },
      getAtt: (id, type, attr) => {
        if (type === 'AWS::IAM::Role' && attr === 'Arn') {
          return `arn:${partition}:iam::${account}:role/cordon/rehearsal-${id}`;
        }
        const key = type === 'AWS::KMS::Key' && attr === 'Arn' ? resources.keys.get(id) : undefined;
        if (key) return `arn:${partition}:kms:${region}:${account}:${key.alias}`;
        if (type === 'AWS::Lambda::Url' && attr === 'FunctionUrl') {
          return `https://rehearsal-${id.toLowerCase()}.lambda-url.${region}.on.aws/`;
        }
        return undefined;
      },
    };
    const model = readTemplate(template, values);
    admitRehearsalResponders(model, rehearsalResponders(partition, account).role);
    await taskTokens.start();
    await findingSource.start();
    const ledgerTable = [...resources.tables.values()].find(
      (t) => t.name === LOCAL_NAMES.tables[`${LEDGER_PARTITION_KEY}:${LEDGER_SORT_KEY}`],
    );
    if (!ledgerTable) throw new Error('the template has no ledger table');
    // The ledger key as the functions are given it: the template's key, local.
    const ledgerKey = [...model.functions.values()]
      .map((f) => f.environment[ENV.ledgerKey])
      .find((key) => key !== undefined);
    if (!ledgerKey) throw new Error('the template gives its functions no ledger key');
    const ledger = new Ledger({
      client: documentClient(),
      tableName: ledgerTable.name,
      now: () => new Date(),
      mac: new KmsLedgerMac(ledgerKey),
    });
    // What Lambda's runtime sets for every function, and the SDK's endpoint
    // configuration (an emulator's), which real functions read from their
    // environment too.
    const runtime = Object.fromEntries(
      Object.entries(process.env).filter(
        (entry): entry is [string, string] =>
          entry[0].startsWith('AWS_ENDPOINT_URL') && entry[1] !== undefined,
      ),
    );
    const host = new FunctionHost(
      { AWS_REGION: region, ...runtime, ...options.environment },
      { 'record-failure': { now: rehearsalClock.now } },
    );
    return new RehearsalEngine(model, values, ledger, ledgerKey, resources, host, options);
  }

  /**
   * Creates the tables, parameters and topic again if they are gone (an
   * emulator reset between tests); handlers keep their names, so they keep
   * working.
   */
  async ensureResources(): Promise<void> {
    await ensureResources(this.resources);
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
   * requestedBy, reason }`), as the responder API's StartExecution would.
   */
  async rollback(input: unknown): Promise<ExecutionReport> {
    const machine = [...this.model.stateMachines.values()].find(
      (m) => m.playbook === ROLLBACK_MACHINE,
    );
    if (!machine) throw new Error('the template has no rollback state machine');
    return this.execute(machine, input);
  }

  /**
   * Dismisses an incident as an emulated responder would with `cordon
   * dismiss`: through the real responder API handler, with a caller proof
   * the emulator's STS checks.
   */
  dismiss(incidentId: string, reason: string): Promise<DismissResponse> {
    return this.responders.dismiss(incidentId, reason);
  }

  /**
   * Rolls an incident back as `cordon rollback` would: the rollback state
   * machine, asked for by an emulated responder (neither of the two who
   * decide its approval, by `decision`).
   */
  rollBack(incidentId: string, reason: string): Promise<ExecutionReport> {
    const { partition, account } = this.values;
    return this.rollback({
      incidentId,
      force: false,
      requestedBy: rehearsalResponders(partition, account).requester,
      reason,
    });
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
    const stateMachineName = machine.name;
    const executionArn = `arn:${partition}:states:${region}:${account}:execution:${stateMachineName}:${name}`;
    const run = await runDefinition(machine.definition, input, this.tasks(machine, executionArn), {
      executionArn,
      name,
      stateMachineArn: `arn:${partition}:states:${region}:${account}:stateMachine:${stateMachineName}`,
      stateMachineName,
      roleArn: `arn:${partition}:iam::${account}:role/cordon/rehearsal`,
    });
    const { exits, ...result } = run;
    return {
      playbook: machine.playbook,
      executionArn,
      ...result,
      ledger: await this.entriesWritten(exits, executionArn),
    };
  }

  /** The entries this execution wrote: every entry carries its execution ARN. */
  private async entriesWritten(exits: unknown[], executionArn: string): Promise<LedgerEntry[]> {
    const ids = new Set<string>();
    for (const output of exits) {
      const parsed = z
        .union([
          z.object({ incident: z.object({ incidentId: z.string() }) }),
          z.object({ incidentId: z.string() }),
        ])
        .safeParse(output);
      if (parsed.success) {
        ids.add(
          'incident' in parsed.data ? parsed.data.incident.incidentId : parsed.data.incidentId,
        );
      }
      // An attack sequence's children, claimed by triage whether or not a step of theirs ran.
      const children = z
        .object({ children: z.array(z.object({ incidentId: z.string() })) })
        .safeParse(output);
      for (const child of children.data?.children ?? []) ids.add(child.incidentId);
    }
    // Triage never produced an incident: failures are filed under the execution.
    if (ids.size === 0) ids.add(orphanIncidentId(executionArn));
    const all = (await Promise.all([...ids].map((id) => this.ledger.entries(id)))).flat();
    return all.filter((entry) => entry.executionArn === executionArn);
  }

  /** Each Task state of the machine, run locally: its function hosted here, its approvals emulated. */
  private tasks(machine: TemplateStateMachine, executionArn: string): Record<string, TaskHandler> {
    const tasks: Record<string, TaskHandler> = {};
    for (const [name, state] of taskStates(machine.definition)) {
      const resource = state.Resource;
      const fn = this.model.functionsByArn.get(resource);
      // Each invocation runs in its execution's Task scope (calls.ts).
      const invoke = (target: TemplateFunction, payload: JSONValue) =>
        inTask(executionArn, target.action, () => this.host.invoke(target, payload));
      if (fn) {
        tasks[name] = (input) => invoke(fn, input);
        continue;
      }
      const integration = LAMBDA_INVOKE.exec(resource);
      if (!integration) throw new Error(`state ${name}: rehearsal cannot run resource ${resource}`);
      const waits = integration[1] !== undefined;
      tasks[name] = async (input) => {
        const { FunctionName, Payload } = z
          .object({ FunctionName: z.string(), Payload: z.unknown() })
          .parse(input);
        const target = this.model.functionsByArn.get(FunctionName);
        if (!target) throw new Error(`state ${name}: unknown function ${FunctionName}`);
        if (waits) {
          return approvalWait(
            Payload,
            executionArn,
            (payload) => invoke(target, payload),
            // Responders are people: what they do while a step waits is not the playbook's.
            (request) => outsideTasks(() => this.decide(request)),
          );
        }
        const result = await invoke(target, jsonValue(Payload));
        return { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 };
      };
    }
    return tasks;
  }
}
