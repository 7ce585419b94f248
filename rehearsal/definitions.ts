import './polyfill.js';
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import { z } from 'zod';
import { type JSONValue, jsonValue } from './functions.js';

/**
 * Running a synthesized state machine definition as Step Functions would,
 * with aws-local-stepfunctions: each Task state's resource replaced by a
 * local handler, retries without their real backoff delays, and the
 * execution's context (its ARN, its start) as Step Functions sets it.
 */

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
  const run = sm.run(eventInput, {
    overrides: {
      taskResourceLocalHandlers: { ...tasks },
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

  const failure = events.find((e) => e.type === 'ExecutionFailed');
  const error =
    failure && failure.type === 'ExecutionFailed'
      ? { Error: failure.Error, Cause: String(failure.Cause ?? '') }
      : failed
        ? { Error: 'States.Runtime', Cause: 'execution failed' }
        : undefined;
  return {
    status: failed ? 'FAILED' : 'SUCCEEDED',
    ...(output !== undefined ? { output } : {}),
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
