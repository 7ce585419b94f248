import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { DismissResponse } from '../functions/responder-api/contract.js';
import { InvalidFindingError } from '../functions/shared/errors.js';
import { parseFindingEvent } from '../functions/triage/parse/index.js';
import { parseConfig } from '../infra/config.js';
import {
  DECISIONS,
  type Decision,
  type EventReport,
  type ExecutionReport,
  RehearsalEngine,
} from '../rehearsal/engine.js';
import { cdkJsonContext } from '../rehearsal/synth.js';
import { CliError } from './errors.js';
import { bold, formatEventReport, formatExecution } from './format.js';

export const REHEARSE_USAGE =
  "usage: cordon rehearse <event.json | rollback | dismiss>... [--decision approve|reject|timeout] [-c cordon='{...}' | --context-file FILE] [--json]";

/** The one context key a rehearsal may override: Cordon's configuration. */
const CONTEXT_KEY = 'cordon';

/**
 * What an emulated responder may do between events: roll back, or dismiss,
 * the incidents of the event before it (`./rollback` names a file).
 */
export const RESPONDER_COMMANDS = ['rollback', 'dismiss'] as const;
type ResponderCommand = (typeof RESPONDER_COMMANDS)[number];
const isResponderCommand = (arg: string): arg is ResponderCommand =>
  (RESPONDER_COMMANDS as readonly string[]).includes(arg);

const EnvelopeSchema = z.looseObject({ source: z.string(), 'detail-type': z.string() });

/**
 * Validates every file before anything runs: nothing is acted on when any
 * input is invalid.
 */
export async function loadEvents(files: readonly string[]): Promise<unknown[]> {
  const events: unknown[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new CliError(
        `${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`,
      );
    }
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch (error) {
      throw new CliError(`${file}: not valid JSON (${(error as Error).message})`);
    }
    if (!EnvelopeSchema.safeParse(event).success) {
      throw new CliError(`${file}: not an EventBridge event (needs "source" and "detail-type")`);
    }
    try {
      parseFindingEvent(event);
    } catch (error) {
      if (error instanceof InvalidFindingError) throw new CliError(`${file}: ${error.message}`);
      throw error;
    }
    events.push(event);
  }
  return events;
}

/** The `cordon` context as `-c cordon='{...}'` gives it (a string) or `--context-file` holds it. */
async function overrideValue(options: {
  readonly context?: readonly string[];
  readonly contextFile?: string;
}): Promise<unknown> {
  const { context = [], contextFile } = options;
  if (context.length > 0 && contextFile !== undefined) {
    throw new CliError(`-c and --context-file contradict each other: give one\n${REHEARSE_USAGE}`);
  }
  if (contextFile !== undefined) {
    let text: string;
    try {
      text = await readFile(contextFile, 'utf8');
    } catch (error) {
      throw new CliError(
        `--context-file ${contextFile}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`,
      );
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new CliError(
        `--context-file ${contextFile}: not valid JSON (${(error as Error).message})`,
      );
    }
  }
  const [first, second] = context;
  if (first === undefined) return undefined;
  if (second !== undefined) {
    throw new CliError(`-c: give the ${CONTEXT_KEY} context once, as one JSON object`);
  }
  const split = first.indexOf('=');
  const key = split < 0 ? undefined : first.slice(0, split);
  if (key !== CONTEXT_KEY) {
    throw new CliError(
      `-c: only the ${CONTEXT_KEY} context can be overridden, as -c ${CONTEXT_KEY}='{...}'; not "${first}"`,
    );
  }
  return first.slice(split + 1);
}

/**
 * The CDK context a rehearsal runs with: cdk.json's, with its `cordon`
 * object replaced by the override (as `cdk synth -c cordon=...` replaces
 * it, whole), or undefined for cdk.json's as it is. The override is
 * validated as synth validates it (infra/config.ts), so a bad key fails with
 * synth's message (a ConfigValidationError) before anything runs.
 */
export async function contextOverride(
  options: { readonly context?: readonly string[]; readonly contextFile?: string },
  base: () => Record<string, unknown> = cdkJsonContext,
): Promise<Record<string, unknown> | undefined> {
  const raw = await overrideValue(options);
  if (raw === undefined) return undefined;
  parseConfig(raw);
  // parseConfig read a string as JSON and accepted it: it holds an object.
  const cordon: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
  return { ...base(), [CONTEXT_KEY]: cordon };
}

/** What an emulated responder did after an event, to each of its incidents. */
export interface ResponderReport {
  /** The event whose incidents it acted on. */
  readonly after: string;
  readonly command: ResponderCommand;
  readonly incidentId: string;
  /** The rollback's execution. */
  readonly execution?: ExecutionReport;
  /** The responder API's answer to the dismissal. */
  readonly dismissal?: DismissResponse;
}

export interface RehearseResult {
  readonly events: { readonly file: string; readonly report: EventReport }[];
  /** Rollbacks and dismissals, in the order given. */
  readonly responders: ResponderReport[];
}

/** The incidents an event's executions wrote to. */
function incidentsOf(report: EventReport): string[] {
  return [...new Set(report.executions.flatMap((x) => x.ledger.map((entry) => entry.incidentId)))];
}

/** Splits the arguments into event files and the responder commands after each. */
function plan(positionals: readonly string[]): Array<string | ResponderCommand> {
  const [head] = positionals;
  if (head === undefined) throw new CliError(`no event file given\n${REHEARSE_USAGE}`);
  if (isResponderCommand(head)) {
    throw new CliError(
      `${head} acts on the incidents of the event before it: give an event first\n${REHEARSE_USAGE}`,
    );
  }
  return [...positionals];
}

export async function rehearseCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      decision: { type: 'string' },
      json: { type: 'boolean', default: false },
      context: { type: 'string', short: 'c', multiple: true },
      'context-file': { type: 'string' },
    },
  });
  const steps = plan(positionals);
  const decision = values.decision ?? 'timeout';
  if (!(DECISIONS as readonly string[]).includes(decision)) {
    throw new CliError(`--decision must be one of ${DECISIONS.join(', ')}, not "${decision}"`);
  }
  const context = await contextOverride({
    ...(values.context ? { context: values.context } : {}),
    ...(values['context-file'] === undefined ? {} : { contextFile: values['context-file'] }),
  });
  const files = steps.filter((step) => !isResponderCommand(step));
  const events = await loadEvents(files);
  const engine = await RehearsalEngine.create({
    decision: decision as Decision,
    ...(context ? { context } : {}),
  });

  const result: RehearseResult = { events: [], responders: [] };
  let previous: { file: string; report: EventReport } | undefined;
  let next = 0;
  for (const step of steps) {
    if (isResponderCommand(step)) {
      if (!previous) continue;
      for (const incidentId of incidentsOf(previous.report)) {
        const report = await respond(engine, step, incidentId, previous.file);
        result.responders.push(report);
        if (!values.json) console.log(formatResponder(report));
      }
      continue;
    }
    const event = events[next];
    next += 1;
    const report = await engine.rehearse(event);
    previous = { file: step, report };
    result.events.push(previous);
    if (!values.json) console.log(formatEventReport(basename(step), report));
  }
  if (values.json) console.log(JSON.stringify(result, null, 2));
  const failed =
    result.events.some((e) => e.report.executions.some((x) => x.status === 'FAILED')) ||
    result.responders.some((r) => r.execution?.status === 'FAILED');
  return failed ? 1 : 0;
}

/** One responder command on one incident, as an emulated responder runs it. */
async function respond(
  engine: RehearsalEngine,
  command: ResponderCommand,
  incidentId: string,
  after: string,
): Promise<ResponderReport> {
  const reason = `${command} in rehearsal`;
  if (command === 'rollback') {
    return { after, command, incidentId, execution: await engine.rollBack(incidentId, reason) };
  }
  return { after, command, incidentId, dismissal: await engine.dismiss(incidentId, reason) };
}

function formatResponder(report: ResponderReport): string {
  if (report.execution) {
    return [`${bold(`rollback ${report.incidentId}`)}`, formatExecution(report.execution)].join(
      '\n',
    );
  }
  return `${bold(`dismiss ${report.incidentId}`)}: ${report.dismissal?.message ?? ''}`;
}
