/**
 * Shared setup for the files that run the synthesized iam-credentials
 * playbook against moto (test/state-machines/*.integration.test.ts and
 * test/integration/iam-credentials.test.ts).
 *
 * Synthesis is the slow part (seconds), so a file creates one engine in
 * `beforeAll`, whose emulated responders decide (through the real approval
 * endpoint handler) as each test asks. But `useMoto()` wipes moto before
 * every test, and the engine creates its tables and topic only in
 * `create()`, so the harness asks the engine to create them again after each
 * reset (`ensureResources`). The handlers keep working across resets: each
 * engine builds them once from the template's environment, whose table
 * names and topic ARN are fixed (moto's topic ARN for a name is
 * deterministic).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach } from 'vitest';
import { z } from 'zod';
import type { DismissResponse } from '../../functions/responder-api/contract.js';
import type { FunctionName, PlaybookName } from '../../functions/shared/catalog.js';
import {
  type ApprovalRequest,
  type Decision,
  type EventReport,
  type ExecutionReport,
  RehearsalEngine,
  type ReplayOptions,
} from '../../rehearsal/engine.js';
import { findingSource } from '../../rehearsal/finding-source.js';
import { cdkJsonContext, REPO_ROOT } from '../../rehearsal/synth.js';
import type { TemplateStateMachine } from '../../rehearsal/template.js';
import { MOTO_ACCOUNT_ID, MOTO_REGION } from '../support/moto.js';

const JsonObject = z.record(z.string(), z.unknown());

export const LEDGER_TABLE = 'cordon-ledger';
export const TOPIC_NAME = 'cordon-notifications';

export interface HarnessOptions {
  /** CDK context instead of cdk.json's (see `contextWith`). */
  readonly context?: Record<string, unknown>;
  /** Variables added to every function's environment. */
  readonly environment?: Readonly<Record<string, string>>;
}

/** The engine's API, with the emulated responders deciding one way. */
export interface DecidingEngine {
  rehearse(event: unknown, options?: ReplayOptions): Promise<EventReport>;
  execute(
    machine: TemplateStateMachine,
    input: unknown,
    options?: ReplayOptions,
  ): Promise<ExecutionReport>;
  match(event: unknown): TemplateStateMachine[];
  /** Runs the rollback state machine on `input`, as POST /rollbacks starts it. */
  rollback(input: unknown): Promise<ExecutionReport>;
  /** Dismisses an incident through the responder API, as `cordon dismiss` would. */
  dismiss(incidentId: string, reason: string): Promise<DismissResponse>;
}

export interface DecidingOptions {
  /**
   * Runs while a step waits for its approval, before the responders decide:
   * what someone else does to the target meanwhile. @default nothing
   */
  readonly duringWait?: (request: ApprovalRequest) => Promise<void>;
}

export interface Harness {
  /**
   * The file's engine, its responders deciding `decision`; a function is
   * asked at each approval, and may change the world first (what happens
   * while a step waits).
   */
  engine(
    decision: Decision | ((request: ApprovalRequest) => Promise<Decision>),
    options?: DecidingOptions,
  ): DecidingEngine;
  /** A state machine of the synthesized template. @default the iam-credentials one */
  playbook(name?: PlaybookName): TemplateStateMachine;
  /** A function's environment, as the rehearsal resolved the template's. */
  environment(name: FunctionName): Readonly<Record<string, string>>;
}

/**
 * Synthesizes once for the file (one engine: the decision is the decider's
 * only input, so the modes share it) and restores the tables and topic
 * after every moto reset. Call at the top level, after `useMoto()`.
 */
export function rehearsalHarness(options: HarnessOptions = {}): Harness {
  let engine: RehearsalEngine | undefined;
  // Set by each call through `engine(decision)`; the tests of a file run one at a time.
  let decision: Decision | ((request: ApprovalRequest) => Promise<Decision>) = 'timeout';
  let during: DecidingOptions = {};

  beforeAll(async () => {
    engine = await RehearsalEngine.create({
      account: MOTO_ACCOUNT_ID,
      region: MOTO_REGION,
      decision: async (request) => {
        await during.duringWait?.(request);
        return typeof decision === 'function' ? decision(request) : decision;
      },
      ...(options.context ? { context: options.context } : {}),
      ...(options.environment ? { environment: options.environment } : {}),
    });
  });

  // Registered after useMoto()'s reset, so it runs after it.
  beforeEach(async () => {
    await engine?.ensureResources();
    // The finding sources start empty too, like the account.
    findingSource.clear();
  });

  const created = (): RehearsalEngine => {
    if (!engine) throw new Error('the rehearsal engine is created in beforeAll; use it in tests');
    return engine;
  };
  return {
    engine(mode, options = {}) {
      const deciding = (): RehearsalEngine => {
        decision = mode;
        during = options;
        return created();
      };
      return {
        rehearse: (event, options) => deciding().rehearse(event, options),
        execute: (machine, input, options) => deciding().execute(machine, input, options),
        match: (event) => created().match(event),
        rollback: (input) => deciding().rollback(input),
        dismiss: (incidentId, reason) => created().dismiss(incidentId, reason),
      };
    },
    playbook(name = 'iam-credentials') {
      const machine = [...created().model.stateMachines.values()].find((m) => m.playbook === name);
      if (!machine) throw new Error(`the template has no ${name} state machine`);
      return machine;
    },
    environment(name) {
      const fn = [...created().model.functions.values()].find((f) => f.action === name);
      if (!fn) throw new Error(`the template has no ${name} function`);
      return fn.environment;
    },
  };
}

/** cdk.json's context with `cordon` settings overridden (shallow, per key). */
export function contextWith(cordon: Record<string, unknown>): Record<string, unknown> {
  const base = cdkJsonContext();
  const existing = JsonObject.parse(base.cordon ?? {});
  return { ...base, cordon: { ...existing, ...cordon } };
}

/** A fixture event from test/fixtures/events, parsed. */
export function fixtureEvent(name: string): Record<string, unknown> {
  const path = join(REPO_ROOT, 'test', 'fixtures', 'events', name);
  return JsonObject.parse(JSON.parse(readFileSync(path, 'utf8')));
}

/** The one execution of a rehearsal (one playbook matched), or a clear failure. */
export function onlyExecution(report: { executions: ExecutionReport[] }): ExecutionReport {
  const [execution, ...others] = report.executions;
  if (!execution || others.length > 0) {
    throw new Error(`expected exactly one execution, got ${report.executions.length}`);
  }
  return execution;
}

/** One line to show when an execution assertion fails: status, error, path and failed steps. */
export function explain(execution: ExecutionReport): string {
  const error = execution.error ? ` ${execution.error.Error}: ${execution.error.Cause}` : '';
  const failed = execution.ledger
    .filter((e) => e.outcome === 'FAILED')
    .map((e) => `${e.step}: ${e.summary ?? ''}`);
  const failures = failed.length > 0 ? `; failed: ${failed.join(' | ')}` : '';
  return `${execution.status}${error}; states: ${execution.states.join(' > ')}${failures}`;
}

/** Ledger outcomes of an execution as `step:outcome`, in order. */
export function outcomes(execution: ExecutionReport): string[] {
  return execution.ledger.map((e) => `${e.step}:${e.outcome}`);
}
