import { type ApprovalVerifier, approvalVerifier } from '../shared/approval-record.js';
import { type Boot, boot } from '../shared/boot.js';
import type { Environment } from '../shared/env.js';
import { InvalidTaskInputError, NotValidatedError } from '../shared/errors.js';
import { taskHandler } from '../shared/handler.js';
import { inFlight } from '../shared/in-flight.js';
import { type ActionInput, ActionInputSchema, type ActionResult } from '../shared/incident.js';
import type { LedgerEntry } from '../shared/ledger.js';
import {
  accountOf,
  type RollbackInput,
  RollbackInputSchema,
  type RollbackResult,
  verifiedEntries,
} from '../shared/rollback.js';
import {
  type Clients,
  clientsAt,
  organizationOf,
  type Place,
  placeOf,
  placeRefusal,
} from '../shared/spoke.js';
import { claimedPlace, notValidated } from '../shared/validated.js';

/**
 * The two handler shapes of an action folder. Each action's `handler.ts`
 * names its AWS clients and its core function; these wire the rest once, at
 * cold start (`boot`), and wrap the core: parse the input strictly, log the
 * keys, (for a containment) refuse an incident triage did not validate, run,
 * log the outcome.
 */

/** What a containment or rollback core gets besides its AWS clients. */
export type ActionDeps = Pick<Boot, 'ledger' | 'actor' | 'now'> & {
  readonly approvals: ApprovalVerifier;
};

/**
 * What a containment core gets: also the incident's entries, as read to
 * validate its input (rejecting when it is not triage's).
 */
export type ContainmentActionDeps = ActionDeps & {
  readonly entries: Promise<readonly LedgerEntry[]>;
};

export function containmentHandler<C extends object>(
  env: Environment,
  name: string,
  clients: Clients<C>,
  run: (input: ActionInput, deps: ContainmentActionDeps & C) => Promise<ActionResult>,
) {
  const deps = { ...boot(env, name), approvals: approvalVerifier(env) };
  const { logger } = deps;
  const organization = organizationOf(env);
  const region = ownRegion(env);
  return taskHandler(logger, ActionInputSchema, async (input) => {
    logger.appendKeys({ incidentId: input.incident.incidentId, step: input.step });
    const place = placeOf(input.incident);
    const elsewhere = organization && placeRefusal(organization, place, { region });
    if (elsewhere) {
      throw new InvalidTaskInputError(`${name} refused to act: ${elsewhere}; nothing was read`);
    }
    // The check runs beside the step's first reads; the step awaits it
    // before it records or changes anything (containment.ts).
    const entries = inFlight(requireValidated(input, deps, name));
    // Its clients where the incident's calls are made (organization-wide, through its spoke role).
    const at = clientsAt(clients, place);
    const result = await run(input, { ...deps, entries, ...at });
    logger.info('step finished', { outcome: result.outcome, targetArn: result.targetArn });
    return result;
  });
}

/**
 * What a rollback core gets: also the incident's entries, from a verified
 * ledger, and where its calls are made, from triage's claim.
 */
export type RollbackActionDeps = ActionDeps & {
  readonly entries: readonly LedgerEntry[];
  readonly place: Place;
};

export function rollbackHandler<C extends object>(
  env: Environment,
  name: string,
  clients: Clients<C>,
  run: (input: RollbackInput, deps: RollbackActionDeps & C) => Promise<RollbackResult>,
) {
  const deps = { ...boot(env, name), approvals: approvalVerifier(env) };
  const { logger } = deps;
  const organized = organizationOf(env) !== undefined;
  return taskHandler(logger, RollbackInputSchema, async (input) => {
    logger.appendKeys({ incidentId: input.incidentId, step: input.item.step, seq: input.item.seq });
    const entries = await verifiedEntries(deps.ledger, input.incidentId);
    const place = rollbackPlace(input, entries, organized, {
      account: accountOf(deps.actor),
      region: ownRegion(env),
    });
    const result = await run(input, { ...deps, entries, place, ...clientsAt(clients, place) });
    logger.info('rollback finished', { outcome: result.outcome, targetArn: result.targetArn });
    return result;
  });
}

/** The function's own region, as Lambda sets it. */
function ownRegion(env: Environment): string | undefined {
  return env.AWS_REGION ?? process.env.AWS_REGION;
}

/**
 * Where a rollback's calls are made: the account and region triage's claim
 * recorded for the execution that made the change (never the input's say).
 * A claim from before they were recorded is single-account's: the
 * function's own account and region; organization-wide that is refused.
 * Single-account, a claim of another account (an organization-wide
 * incident, after the organization key was removed) is refused too: the
 * function's own credentials would act on a namesake in its own account.
 */
export function rollbackPlace(
  input: RollbackInput,
  entries: readonly LedgerEntry[],
  organized: boolean,
  own: { account: string; region: string | undefined },
): Place {
  const { incidentId } = input;
  const entry = entries.find((e) => e.seq === input.item.seq);
  const claimed = claimedPlace(entries, entry?.executionArn);
  if (claimed !== undefined && !organized && claimed.account !== own.account) {
    throw new InvalidTaskInputError(
      `entry #${input.item.seq} of ${incidentId} was made in account ${claimed.account}; this Cordon acts only in ${own.account} without its organization key, so it does not roll it back`,
    );
  }
  if (claimed !== undefined) return { ...claimed, incidentId };
  if (organized || own.region === undefined) {
    throw new InvalidTaskInputError(
      `no claim of ${incidentId} records the account and region of entry #${input.item.seq}; refusing to guess where to act`,
    );
  }
  return { account: own.account, region: own.region, incidentId };
}

/**
 * Refuses a step of an incident triage did not validate (./validated.ts),
 * recording the refusal on the incident when triage claimed it. An incident
 * nobody claimed gets no entry: a made-up id must not take the place of a
 * real incident's claim. Returns the incident's entries it read.
 */
async function requireValidated(
  input: ActionInput,
  deps: ActionDeps,
  action: string,
): Promise<LedgerEntry[]> {
  const { incidentId } = input.incident;
  const entries = await deps.ledger.entries(incidentId);
  const why = notValidated(input, entries);
  if (why === undefined) return entries;
  const error = new NotValidatedError(`${action} refused to act: ${why}`);
  const head = entries.reduce<LedgerEntry | null>(
    (a, e) => (a === null || e.seq > a.seq ? e : a),
    null,
  );
  if (head !== null) {
    await deps.ledger.append(
      incidentId,
      {
        step: input.step,
        action,
        actor: deps.actor,
        outcome: 'FAILED',
        summary: error.message,
        executionArn: input.executionArn,
        findingId: input.incident.findingId,
      },
      head,
    );
  }
  throw error;
}
