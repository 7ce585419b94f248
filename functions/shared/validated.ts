import type { Mode } from './catalog.js';
import { canonicalJson, sha256Hex } from './hash.js';
import { type ActionInput, type Incident, ModeSchema } from './incident.js';
import type { LedgerEntry } from './ledger.js';
import { z } from './z.js';

/**
 * An action acts only on an incident triage validated. The state machine
 * hands each action the incident triage returned, but whoever may invoke an
 * action's function directly (`lambda:InvokeFunction`, in PowerUserAccess
 * and many CI roles) can hand it any input: another target, or `auto` for a
 * step triage planned to wait for a responder. So triage's claim records a
 * digest of the incident it validated and the mode it planned for each
 * step, and the action compares what it was handed with that claim, in the
 * ledger, which only Cordon's roles may write.
 */

/** What triage's claim records of the incident it validated. */
export interface Validated {
  /** The incident's digest, its plan aside. */
  readonly incident: string;
  /** The mode triage planned for each step. */
  readonly modes: Readonly<Record<string, Mode>>;
  /**
   * Where the incident's calls are made: a rollback, which gets no
   * incident, finds its account and region here. (Claims written before
   * it was recorded have none: single-account, the function's own.)
   */
  readonly account: string;
  readonly region: string;
}

const ValidatedSchema = z.object({
  incident: z.string().regex(/^[0-9a-f]{64}$/),
  modes: z.record(z.string(), ModeSchema),
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  region: z.string().min(1).optional(),
});

/**
 * The digest of an incident, its plan aside: the circuit breaker may make a
 * plan stricter after the claim, and the modes are compared on their own.
 */
export function incidentDigest(incident: Incident): string {
  const { plan: _plan, ...validated } = incident;
  return sha256Hex(canonicalJson(validated));
}

/** What triage records on its claim of `incident`. */
export function validatedRecord(incident: Incident): Validated {
  return {
    incident: incidentDigest(incident),
    modes: Object.fromEntries(Object.entries(incident.plan).map(([step, p]) => [step, p.mode])),
    account: incident.account,
    region: incident.region,
  };
}

/**
 * The account and region triage's claim under `executionArn` recorded for
 * its incident, or undefined when there is no such claim or it recorded
 * none (a claim written before they were recorded).
 */
export function claimedPlace(
  entries: readonly LedgerEntry[],
  executionArn: string | undefined,
): { account: string; region: string } | undefined {
  const claim = entries.find(
    (e) => e.step === 'triage' && e.outcome === 'CLAIMED' && e.executionArn === executionArn,
  );
  const validated = ValidatedSchema.safeParse(claim?.detail?.validated).data;
  return validated?.account === undefined || validated.region === undefined
    ? undefined
    : { account: validated.account, region: validated.region };
}

/** The entry outcomes with which triage's circuit breaker holds an incident's automatic steps. */
const HELD = new Set(['BREAKER_TRIPPED', 'BREAKER_HOLDING']);

/**
 * Why `input` is not a step of the incident triage validated, given that
 * incident's ledger entries; undefined when it is. A step may be stricter
 * than triage planned it (`approve` for `auto`: the breaker held it), never
 * less strict, and never `auto` once the breaker held the incident.
 */
export function notValidated(
  input: ActionInput,
  entries: readonly LedgerEntry[],
): string | undefined {
  const { incident, step } = input;
  const id = incident.incidentId;
  // One incident per finding: each emission that acts claims it in an
  // entry of its own, and a step runs only under its own execution's claim.
  const claims = entries.filter((e) => e.step === 'triage' && e.outcome === 'CLAIMED');
  const claim = claims.find((e) => e.executionArn === input.executionArn);
  if (claim === undefined) {
    const [other] = claims;
    return other === undefined
      ? `triage claimed no incident ${id}`
      : `incident ${id} was claimed by execution ${other.executionArn}, not ${input.executionArn}`;
  }
  const validated = ValidatedSchema.safeParse(claim.detail?.validated);
  if (!validated.success) return `the claim of incident ${id} records no validated incident`;
  if (validated.data.incident !== incidentDigest(incident)) {
    return `the incident handed to step ${step} is not the one triage validated for ${id}`;
  }
  const planned = validated.data.modes[step];
  const mode = incident.plan[step]?.mode ?? 'off';
  if (planned === undefined) return `triage planned no step ${step} for ${id}`;
  if (mode !== planned && !(mode === 'approve' && planned === 'auto')) {
    return `step ${step} was handed mode ${mode}, but triage planned it ${planned}`;
  }
  const held = (e: LedgerEntry) =>
    e.step === 'triage' && HELD.has(e.outcome) && e.executionArn === input.executionArn;
  if (mode === 'auto' && entries.some(held)) {
    return `the circuit breaker held incident ${id}: step ${step} cannot run unattended`;
  }
  return undefined;
}

const SequenceClaimSchema = z.object({
  children: z.array(z.string()),
  subjects: z.array(z.string()),
});

/** What an attack sequence's parent claim recorded: its children, and who may not decide. */
export interface SequenceClaim {
  /** The child incidents triage claimed, the set the responders are asked about. */
  readonly children: readonly string[];
  /** Every principal the sequence names, acted on or not: none of them may decide. */
  readonly subjects: readonly string[];
}

/**
 * The attack sequence's parent claim under `executionArn`, as triage wrote
 * it; undefined when there is none, or it records no set. Only Cordon's
 * roles write the ledger, so this, not a task's input, is the set the one
 * approval is about.
 */
export function sequenceClaim(
  entries: readonly LedgerEntry[],
  executionArn: string,
): SequenceClaim | undefined {
  const claim = entries.find(
    (e) => e.step === 'triage' && e.outcome === 'CLAIMED' && e.executionArn === executionArn,
  );
  return SequenceClaimSchema.safeParse(claim?.detail).data;
}
