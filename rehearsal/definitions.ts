import './polyfill.js';
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import { z } from 'zod';
import { type JSONValue, jsonValue } from './functions.js';

/**
 * Running a synthesized state machine definition as Step Functions would,
 * with aws-local-stepfunctions: each Task state's resource replaced by a
 * local handler, retries without their real backoff delays, the execution's
 * context (its ARN, its start) as Step Functions sets it, and Step
 * Functions' payload quota, which the local engine does not have.
 */

/**
 * Step Functions' payload quota: 256 KiB of UTF-8, for an execution's input,
 * a state's input after Parameters, and a state's output. Exceeding it is
 * States.DataLimitExceeded, which no Catch catches: the execution fails
 * where it stands.
 */
export const PAYLOAD_QUOTA_BYTES = 256 * 1024;

/** The payload's size as Step Functions counts it: its JSON, in UTF-8 bytes. */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

export type TaskHandler = (input: JSONValue) => Promise<JSONValue>;

export interface ExecutionContext {
  readonly executionArn: string;
  readonly name: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly roleArn: string;
}

export interface Run {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: JSONValue;
  readonly error?: { readonly Error: string; readonly Cause: string };
  /** Every state entered, in order (retries enter a state once). */
  readonly states: string[];
  /** What each state passed on when it exited, in order. */
  readonly exits: unknown[];
}

type EventLog =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** Runs `definition` on `input`, its Task states through `tasks` (by state name). */
export async function runDefinition(
  definition: unknown,
  input: unknown,
  tasks: Readonly<Record<string, TaskHandler>>,
  context: ExecutionContext,
): Promise<Run> {
  const sm = new StateMachine(definition as ConstructorParameters<typeof StateMachine>[0], {
    validationOptions: { checkArn: false },
  });
  const eventInput = jsonValue(input);
  // The first payload over the quota ends the run as States.DataLimitExceeded
  // would: a task whose input is over it does not run, and the run stops at
  // the first state whose input or output is over it.
  let overQuota: { Error: string; Cause: string } | undefined;
  const exceeded = (what: string, state: string, value: unknown): boolean => {
    if (overQuota) return true;
    const bytes = payloadBytes(value);
    if (bytes <= PAYLOAD_QUOTA_BYTES) return false;
    overQuota = {
      Error: 'States.DataLimitExceeded',
      Cause: `The ${what} of state '${state}' is ${bytes} bytes, over the ${PAYLOAD_QUOTA_BYTES}-byte payload quota.`,
    };
    // Not now: the engine calls the first task before sm.run returns.
    setImmediate(() => run.abort());
    return true;
  };
  const guarded = Object.fromEntries(
    Object.entries(tasks).map(([state, handler]): [string, TaskHandler] => [
      state,
      (taskInput) =>
        exceeded('input after Parameters', state, taskInput)
          ? new Promise<JSONValue>(() => {}) // aborted: never answers
          : handler(taskInput),
    ]),
  );
  const run = sm.run(eventInput, {
    overrides: {
      taskResourceLocalHandlers: guarded,
      retryIntervalOverrides: retryOverrides(definition),
    },
    context: {
      Execution: {
        Id: context.executionArn,
        Name: context.name,
        StartTime: new Date().toISOString(),
        Input: eventInput,
        RoleArn: context.roleArn,
      },
      StateMachine: { Id: context.stateMachineArn, Name: context.stateMachineName },
      // The local engine has one token per execution; each wait gets its own (approvals.ts).
      Task: { Token: `rehearsal-token-${randomUUID()}` },
    },
  });

  const events: EventLog[] = [];
  const collecting = (async () => {
    for await (const e of run.eventLogs) {
      if (e.type === 'StateEntered') exceeded('input', e.state.name, e.state.input);
      if (e.type === 'StateExited') exceeded('output', e.state.name, e.state.output);
      events.push(e);
    }
  })();
  let output: JSONValue | undefined;
  let failed = false;
  try {
    output = await run.result;
  } catch {
    failed = true;
  }
  await collecting;

  const failure = events.find((e) => e.type === 'ExecutionFailed');
  const error =
    overQuota ??
    (failure && failure.type === 'ExecutionFailed'
      ? { Error: failure.Error, Cause: String(failure.Cause ?? '') }
      : failed
        ? { Error: 'States.Runtime', Cause: 'execution failed' }
        : undefined);
  return {
    status: failed || overQuota ? 'FAILED' : 'SUCCEEDED',
    ...(output !== undefined && !overQuota ? { output } : {}),
    ...(error ? { error } : {}),
    states: events.flatMap((e) => (e.type === 'StateEntered' ? [e.state.name] : [])),
    exits: events.flatMap((e) => (e.type === 'StateExited' ? [e.state.output] : [])),
  };
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

/** Every Task state of a definition (Map processors and Parallel branches too), with its resource. */
export function* taskStates(definition: unknown): Generator<[string, { Resource: string }]> {
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
