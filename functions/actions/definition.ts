import type { IncidentSubject } from '../shared/incident.js';
import type { LedgerEntry } from '../shared/ledger.js';
import { quoted } from '../shared/text.js';
import { z } from '../shared/z.js';

/**
 * What the rest of Cordon knows about one containment action, from its
 * folder's `action.ts`: who it touches, what an approval request says about
 * it, and how it is undone (or why not). Nothing here calls AWS:
 * request-approval and rollback-plan read these texts without holding any
 * containment permission. Its roles are declared beside it, in `iam.ts`, and
 * gathered by `roles.ts`, which no function imports: a bundle that reads
 * these texts carries no IAM declaration.
 */
export interface ActionDefinition<Name extends string = string> {
  /** `functions/actions/<name>/`, the function's name, and the ledger's `action`. */
  readonly name: Name;
  /**
   * Whom it works on: the incident's IAM principal, or its resource. Ledger
   * entries written around it (approval requested, not acted on) name that
   * ARN, so "everything done to role X" finds an instance role's revocation.
   */
  readonly target: 'principal' | 'resource';
  /** Who else the step hits besides the attacker, in one sentence, for an approval request. */
  blastRadius(incident: IncidentSubject): string;
  /** How it is undone, or why it is left in place (the rollback plan says which). */
  readonly rollback: Undo | LeftInPlace;
  /** The containment function's timeout. @default 30 */
  readonly timeoutSeconds?: number;
  /** It receives the configured break-glass principals (`CORDON_BREAK_GLASS_PRINCIPALS`). */
  readonly breakGlass?: boolean;
}

/** An action a rollback undoes, through its own function `rollback-<action>`, with its own role (`iam.ts`). */
export interface Undo {
  /** The rollback task's state name in the rollback state machine. */
  readonly label: string;
  /**
   * What restoring one CONTAINED entry puts back, to what, in one line, from
   * the states the ledger recorded: said before anything is approved.
   */
  restores(entry: LedgerEntry): string;
}

/** An action no rollback undoes, and why. */
export interface LeftInPlace {
  readonly notRolledBack: string;
}

/** The name of the function that undoes `action`: mechanical, so it sorts beside it. */
export function rollbackNameOf<const Name extends string>(action: Name): `rollback-${Name}` {
  return `rollback-${action}`;
}

/** Declares an action, keeping its literal type: its name, and whether a rollback undoes it. */
export function defineAction<const Definition extends ActionDefinition>(
  definition: Definition,
): Definition {
  return definition;
}

const Loose = z.record(z.string(), z.unknown());

/**
 * One field of a recorded state, or undefined. Restore lines read states the
 * ledger holds without trusting their shape: they are said, not acted on.
 */
export function recorded(state: unknown, key: string): unknown {
  return Loose.safeParse(state).data?.[key];
}

/** A recorded value as a reader sees it: strings as they are, absent as `none`, the rest as JSON. */
export function shown(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Longest attacker-influenced field an approval request quotes. */
export const FIELD_MAX = 256;

/** The incident's principal as an approval request names it: quoted, bounded. */
export function principalShown(incident: IncidentSubject): string {
  const { principal } = incident;
  return principal ? quoted(principal.name ?? principal.arn, FIELD_MAX) : '(no principal)';
}

/** The incident's instance as an approval request names it: quoted, bounded. */
export function instanceShown(incident: IncidentSubject): string {
  return incident.instance ? quoted(incident.instance.instanceId, 64) : '(no instance)';
}

/** The incident's secret as an approval request names it: quoted, bounded. */
export function secretShown(incident: IncidentSubject): string {
  return quoted(incident.secret?.name ?? '(none named)', 140);
}
