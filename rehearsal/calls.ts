import { AsyncLocalStorage } from 'node:async_hooks';
import { __Client as SmithyClient } from '@aws-sdk/client-sts';

/**
 * What each rehearsed execution's functions did, in time: every function
 * start (one per Task invocation) and every AWS call its handler made
 * (service, operation, when it was in flight). Off until `trace()` is
 * called; the bench turns it on to measure how far an event is from its
 * first containment write (bench/latency.ts).
 *
 * Calls are seen by wrapping the SDK's one `Client.prototype.send`, which
 * every client of every handler goes through (the DynamoDB document client
 * too), and attributed to the execution whose Task made them through
 * AsyncLocalStorage: what the engine itself reads (the ledger report), what
 * emulated responders do during an approval wait, and what a test seeds are
 * in no Task and not recorded.
 */

/** One AWS call: `Service:Operation` (`IAM:UpdateAccessKey`), in flight from `start` to `end` (ms). */
export interface CallRecord {
  readonly api: string;
  /** The function (Cordon action name) that made it. */
  readonly fn: string;
  readonly start: number;
  readonly end: number;
}

/** One function start: a Task invoking `fn` at `at` (ms). */
export interface StartRecord {
  readonly fn: string;
  readonly at: number;
}

export interface Timeline {
  readonly starts: StartRecord[];
  readonly calls: CallRecord[];
}

interface Scope {
  readonly timeline: Timeline;
  readonly fn: string;
}

const scope = new AsyncLocalStorage<Scope>();
const timelines = new Map<string, Timeline>();
let tracing = false;
let wrapped = false;

type Send = (this: unknown, command: unknown, ...rest: unknown[]) => unknown;

/** `Service:Operation` of a command: its client's service id and its class, less `Command`. */
export function apiName(serviceId: unknown, command: unknown): string {
  const service = typeof serviceId === 'string' ? serviceId : 'unknown';
  // A DynamoDB document command wraps the low-level one that is really sent.
  const inner =
    command !== null && typeof command === 'object' && 'clientCommand' in command
      ? command.clientCommand
      : command;
  const name =
    inner !== null && typeof inner === 'object' ? inner.constructor.name : String(typeof inner);
  return `${service}:${name.replace(/Command$/, '')}`;
}

function serviceIdOf(client: unknown): unknown {
  if (client === null || typeof client !== 'object' || !('config' in client)) return undefined;
  const { config } = client;
  return config !== null && typeof config === 'object' && 'serviceId' in config
    ? config.serviceId
    : undefined;
}

function wrapSend(): void {
  if (wrapped) return;
  wrapped = true;
  const original: unknown = Reflect.get(SmithyClient.prototype, 'send');
  if (typeof original !== 'function') throw new Error('the SDK client has no send method');
  const send: Send = function send(this: unknown, command: unknown, ...rest: unknown[]) {
    const current = tracing ? scope.getStore() : undefined;
    if (current === undefined) return Reflect.apply(original, this, [command, ...rest]);
    const api = apiName(serviceIdOf(this), command);
    const start = performance.now();
    const record = () => {
      current.timeline.calls.push({ api, fn: current.fn, start, end: performance.now() });
    };
    const result: unknown = Reflect.apply(original, this, [command, ...rest]);
    // Callback-style sends return nothing; handlers here always await.
    if (result instanceof Promise) return result.finally(record);
    record();
    return result;
  };
  Reflect.set(SmithyClient.prototype, 'send', send);
}

/** Starts recording every execution's starts and calls; the returned function stops it. */
export function trace(): () => void {
  wrapSend();
  tracing = true;
  return () => {
    tracing = false;
    timelines.clear();
  };
}

/**
 * Runs one Task's invocation of `fn` for `executionArn`: a function start,
 * and every call `run` makes is the execution's.
 */
export function inTask<T>(executionArn: string, fn: string, run: () => Promise<T>): Promise<T> {
  if (!tracing) return run();
  let timeline = timelines.get(executionArn);
  if (!timeline) {
    timeline = { starts: [], calls: [] };
    timelines.set(executionArn, timeline);
  }
  timeline.starts.push({ fn, at: performance.now() });
  return scope.run({ timeline, fn }, run);
}

/** Runs `run` outside any Task (a responder deciding during an approval wait). */
export function outsideTasks<T>(run: () => T): T {
  return scope.exit(run);
}

/** The timeline of one execution, taken once (empty when it made no Task call or tracing is off). */
export function takeTimeline(executionArn: string): Timeline {
  const timeline = timelines.get(executionArn) ?? { starts: [], calls: [] };
  timelines.delete(executionArn);
  return timeline;
}
