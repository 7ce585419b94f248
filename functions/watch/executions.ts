import {
  DescribeExecutionCommand,
  type ExecutionStatus,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { PLAYBOOK_NAMES, ROLLBACK_MACHINE } from '../shared/catalog.js';
import { classifyAwsError, InvalidFindingError } from '../shared/errors.js';
import { orphanIncidentId } from '../shared/incident.js';
import type { Ledger } from '../shared/ledger.js';
import { RollbackRequestSchema } from '../shared/rollback.js';
import { boundedText } from '../shared/text.js';
import { z } from '../shared/z.js';
import { incidentIdOf, parseFindingEvent } from '../triage/parse/index.js';

/** A state machine ARN, split into what its executions' ARNs are built from. */
const STATE_MACHINE_ARN = /^(arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:)stateMachine:([^:\s]{1,80})$/;

/** The state machines the watch answers for: every playbook's, and the rollback machine. */
export const WatchedMachineSchema = z.strictObject({
  arn: z.string().regex(STATE_MACHINE_ARN),
  /** What it runs: a playbook, or `rollback`. */
  name: z.enum([ROLLBACK_MACHINE, ...PLAYBOOK_NAMES]),
});
export type WatchedMachine = z.infer<typeof WatchedMachineSchema>;

/** The execution ARNs of a state machine all start with this. */
export function executionPrefix(stateMachineArn: string): string | undefined {
  const match = STATE_MACHINE_ARN.exec(stateMachineArn);
  return match ? `${match[1]}execution:${match[2]}:` : undefined;
}

/** The watched machine an execution ARN belongs to, by its prefix. */
export function machineOfExecution(
  machines: readonly WatchedMachine[],
  executionArn: string,
): WatchedMachine | undefined {
  return machines.find((m) => {
    const prefix = executionPrefix(m.arn);
    return prefix !== undefined && executionArn.startsWith(prefix);
  });
}

/** An execution as Step Functions describes it: what the watch reads instead of trusting an event. */
export interface Execution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus | string;
  readonly startDate: Date;
  readonly stopDate?: Date;
  /** Absent when Step Functions does not return it. */
  readonly input?: string;
  /** What StopExecution was given, for an aborted execution: free text of whoever stopped it. */
  readonly error?: string;
  readonly cause?: string;
}

/** The execution, or undefined when Step Functions has none of that ARN. */
export async function describeExecution(
  sfn: SFNClient,
  executionArn: string,
): Promise<Execution | undefined> {
  try {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (!out.stateMachineArn || !out.status || !out.startDate) {
      throw new Error('DescribeExecution answered without state machine, status or start date');
    }
    return {
      executionArn,
      stateMachineArn: out.stateMachineArn,
      name: out.name ?? executionArn,
      status: out.status,
      startDate: out.startDate,
      ...(out.stopDate ? { stopDate: out.stopDate } : {}),
      ...(out.input !== undefined && out.inputDetails?.included !== false
        ? { input: out.input }
        : {}),
      ...(out.error ? { error: out.error } : {}),
      ...(out.cause ? { cause: out.cause } : {}),
    };
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return undefined;
    throw classifyAwsError(error, 'describe execution');
  }
}

/** The incident an execution was about, as the ledger knows it. */
export interface OfIncident {
  readonly kind: 'incident';
  readonly incidentId: string;
  /** The execution whose triage claimed it (another one, when this execution was a duplicate). */
  readonly claimedBy?: string;
  readonly findingId?: string;
  readonly targetArn?: string;
}

/** No incident to record under: the execution's orphan key, and why. */
export interface Orphan {
  readonly kind: 'orphan';
  readonly incidentId: string;
  readonly reason: string;
  /** The incident the input names, when it names one the ledger does not hold (not claimed yet). */
  readonly unclaimed?: string;
}

const REASON_MAX = 300;

function orphan(execution: Execution, reason: string, unclaimed?: string): Orphan {
  return {
    kind: 'orphan',
    incidentId: orphanIncidentId(execution.executionArn),
    reason: boundedText(reason, REASON_MAX),
    ...(unclaimed === undefined ? {} : { unclaimed }),
  };
}

/**
 * The incident an execution was about, found the way the rest of Cordon
 * finds it: a playbook's input is the finding event (the incident id is the
 * one triage claims, which depends on the playbook); the rollback machine's
 * input names the incident. Only an incident the ledger holds counts: one
 * not claimed yet (the execution was stopped before triage claimed it), or
 * an input that cannot be read, leaves the execution's orphan key.
 */
export async function incidentOfExecution(
  machine: WatchedMachine,
  execution: Execution,
  ledger: Pick<Ledger, 'first'>,
): Promise<OfIncident | Orphan> {
  if (execution.input === undefined) {
    return orphan(execution, 'Step Functions returned no input for the execution');
  }
  let input: unknown;
  try {
    input = JSON.parse(execution.input);
  } catch {
    return orphan(execution, 'its input is not JSON');
  }
  let named: { incidentId: string; findingId?: string };
  if (machine.name === ROLLBACK_MACHINE) {
    const request = RollbackRequestSchema.safeParse(input);
    if (!request.success) return orphan(execution, 'its input is not a rollback request');
    named = { incidentId: request.data.incidentId };
  } else {
    try {
      const parsed = parseFindingEvent(input, machine.name);
      if (parsed.status === 'unhandled') {
        return orphan(execution, `its input is no finding for ${machine.name}: ${parsed.message}`);
      }
      named = { incidentId: incidentIdOf(parsed.finding), findingId: parsed.finding.findingId };
    } catch (error) {
      if (!(error instanceof InvalidFindingError)) throw error;
      return orphan(execution, `its input is not a finding Cordon can read: ${error.message}`);
    }
  }
  const claim = await ledger.first(named.incidentId);
  if (claim === undefined) {
    return orphan(
      execution,
      `stopped before incident ${named.incidentId} was claimed: the ledger holds nothing for it`,
      named.incidentId,
    );
  }
  return {
    kind: 'incident',
    incidentId: named.incidentId,
    ...(claim.executionArn === undefined ? {} : { claimedBy: claim.executionArn }),
    ...(named.findingId === undefined ? {} : { findingId: named.findingId }),
    ...(claim.targetArn === undefined ? {} : { targetArn: claim.targetArn }),
  };
}
