import { parseArgs } from 'node:util';
import {
  DecisionRequestSchema,
  type DecisionResponse,
  type DecisionVerb,
  DismissRequestSchema,
  type DismissResponse,
  INCIDENT_ID,
  type PendingApproval,
  type PendingResponse,
  REASON_MAX,
  RollbackRequestBodySchema,
  type RollbackResponse,
  STEP_ID,
  type TimelineResponse,
} from '../functions/responder-api/contract.js';
import { SEQUENCE } from '../functions/shared/catalog.js';
import { firstIssue } from '../functions/shared/validation.js';
import { z } from '../functions/shared/z.js';
import {
  type ApprovalClient,
  connect,
  type EndpointDeps,
  type EndpointOptions,
  EXIT,
} from './endpoint.js';
import { CliError } from './errors.js';
import { bold, dim, green, red, shortArn, yellow } from './format.js';

/**
 * The responder commands: `cordon pending`, `cordon show`, `cordon approve`,
 * `cordon reject`, `cordon rollback` and `cordon dismiss`, over the approval
 * endpoint (cli/endpoint.ts).
 */

/** Options every responder command takes: where the endpoint is. */
export const CONNECTION_USAGE = '[--endpoint URL] [--stack NAME] [--region REGION]';
export const PENDING_USAGE = `usage: cordon pending [--json] ${CONNECTION_USAGE}`;
export const SHOW_USAGE = `usage: cordon show <incident> [--json] ${CONNECTION_USAGE}`;
export const APPROVE_USAGE = `usage: cordon approve <incident> [--step STEP] --reason TEXT [--json] ${CONNECTION_USAGE}`;
export const REJECT_USAGE = `usage: cordon reject <incident> [--step STEP] --reason TEXT [--json] ${CONNECTION_USAGE}`;
export const ROLLBACK_USAGE = `usage: cordon rollback <incident> [--step STEP] [--force] --reason TEXT [--json] ${CONNECTION_USAGE}`;
export const DISMISS_USAGE = `usage: cordon dismiss <incident> --reason TEXT [--json] ${CONNECTION_USAGE}`;

/** Where a command writes, what time it is, and what it connects with; tests replace these. */
export interface CommandIO {
  /** Writes one block of output. @default console.log */
  readonly print?: (text: string) => void;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Longest output line; longer summaries are cut. @default the terminal's width */
  readonly width?: number;
  readonly deps?: Partial<EndpointDeps>;
}

const OPTIONS = {
  endpoint: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

const DECIDE_OPTIONS = {
  ...OPTIONS,
  step: { type: 'string' },
  reason: { type: 'string' },
} as const;

const client = (options: EndpointOptions, io: CommandIO): Promise<ApprovalClient> =>
  connect(options, io.deps);

function incidentArg(positionals: string[], usage: string): string {
  const [incident, ...extra] = positionals;
  if (incident === undefined) throw new CliError(`no incident given\n${usage}`, EXIT.usage);
  if (extra.length > 0) throw new CliError(`one incident at a time\n${usage}`, EXIT.usage);
  if (!INCIDENT_ID.test(incident)) {
    throw new CliError(
      `"${incident}" is not an incident id (inc- and 20 hex digits, as cordon pending shows)`,
      EXIT.usage,
    );
  }
  return incident;
}

const printer = (io: CommandIO) => io.print ?? ((text: string) => console.log(text));
const widthOf = (io: CommandIO) =>
  io.width ?? (process.stdout.isTTY === true ? process.stdout.columns : undefined);
const asJson = (value: unknown) => JSON.stringify(value, null, 2);

/** `cordon pending`: the steps waiting for a responder. */
export async function pendingCommand(argv: string[], io: CommandIO = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: OPTIONS,
  });
  if (positionals.length > 0) {
    throw new CliError(`pending takes no arguments\n${PENDING_USAGE}`, EXIT.usage);
  }
  const response = await (await client(values, io)).pending();
  const now = (io.now ?? (() => new Date()))();
  printer(io)(values.json ? asJson(response) : formatPending(response, now));
  return 0;
}

/**
 * `cordon show <incident>`: the incident's timeline. An attack sequence's
 * parent shows its members' timelines under its own (one approval acts on
 * all of them); a member names its parent.
 */
export async function showCommand(argv: string[], io: CommandIO = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: OPTIONS,
  });
  const incident = incidentArg(positionals, SHOW_USAGE);
  const api = await client(values, io);
  const timeline = await api.timeline(incident);
  const { children, parent } = familyOf(timeline.entries);
  const members =
    children === undefined ? undefined : await Promise.all(children.map((id) => api.timeline(id)));
  const width = widthOf(io);
  printer(io)(
    values.json
      ? asJson({
          ...timeline,
          ...(parent === undefined ? {} : { parent }),
          ...(members === undefined ? {} : { children: members }),
        })
      : formatFamily(timeline, members, width === undefined ? {} : { width }),
  );
  return 0;
}

/** How far a member's timeline is indented under its sequence's. */
const MEMBER_INDENT = '    ';

/** The parent's timeline, then each member's indented under it: the whole set as one tree. */
export function formatFamily(
  timeline: TimelineResponse,
  members: readonly TimelineResponse[] | undefined,
  options: { readonly width?: number } = {},
): string {
  const own = formatTimeline(timeline, options);
  if (members === undefined) return own;
  const { width } = options;
  const nested = width === undefined ? {} : { width: width - MEMBER_INDENT.length };
  const count = members.length === 1 ? '1 member' : `${members.length} members`;
  return [
    own,
    '',
    `  attack sequence: ${count}, each contained on the one approval above`,
    ...members.map((m) =>
      formatTimeline(m, { ...nested, memberLine: false })
        .split('\n')
        .map((line) => `${MEMBER_INDENT}${line}`.trimEnd())
        .join('\n'),
    ),
  ].join('\n');
}

const FamilyClaim = z.object({
  step: z.literal('triage'),
  outcome: z.literal('CLAIMED'),
  detail: z.object({
    children: z.array(z.string().regex(INCIDENT_ID)).max(SEQUENCE.limit).optional(),
    parent: z.string().regex(INCIDENT_ID).optional(),
  }),
});

/**
 * An attack sequence's family as triage's claim recorded it: a parent's
 * children (each claimed under the same execution), or a child's parent.
 */
export function familyOf(entries: TimelineResponse['entries']): {
  readonly children?: readonly string[];
  readonly parent?: string;
} {
  for (const entry of entries) {
    const claim = FamilyClaim.safeParse(entry);
    if (!claim.success) continue;
    const { children, parent } = claim.data.detail;
    return {
      ...(children === undefined || children.length === 0 ? {} : { children }),
      ...(parent === undefined ? {} : { parent }),
    };
  }
  return {};
}

/**
 * `cordon approve|reject <incident>`: records the caller's decision. The
 * approver is whoever signs the request; the body carries no identity.
 */
export async function decideCommand(
  decision: DecisionVerb,
  argv: string[],
  io: CommandIO = {},
): Promise<number> {
  const usage = decision === 'approve' ? APPROVE_USAGE : REJECT_USAGE;
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: DECIDE_OPTIONS,
  });
  const incidentId = incidentArg(positionals, usage);
  const reason = values.reason?.trim();
  if (!reason) {
    throw new CliError(`--reason is required: say why, for the audit ledger\n${usage}`, EXIT.usage);
  }
  if (reason.length > REASON_MAX) {
    throw new CliError(`--reason: at most ${REASON_MAX} characters`, EXIT.usage);
  }
  if (values.step !== undefined && !STEP_ID.test(values.step)) {
    throw new CliError(
      `--step: "${values.step}" is not a step id (letters and digits, as cordon pending shows)`,
      EXIT.usage,
    );
  }
  const request = DecisionRequestSchema.safeParse({
    incidentId,
    ...(values.step !== undefined ? { step: values.step } : {}),
    decision,
    reason,
  });
  if (!request.success) {
    const { where, message } = firstIssue(request.error);
    throw new CliError(`invalid decision: ${where}: ${message}`, EXIT.usage);
  }
  const response = await (await client(values, io)).decide(request.data);
  printer(io)(values.json ? asJson(response) : formatDecision(response));
  return 0;
}

/** `cordon approve <incident>`. */
export const approveCommand = (argv: string[]) => decideCommand('approve', argv);
/** `cordon reject <incident>`. */
export const rejectCommand = (argv: string[]) => decideCommand('reject', argv);

const ROLLBACK_OPTIONS = { ...DECIDE_OPTIONS, force: { type: 'boolean', default: false } } as const;

/**
 * `cordon rollback <incident>`: asks Cordon to restore what the incident's
 * containment changed (one step's, with --step). It starts the rollback
 * playbook, which restores nothing until a responder approves exactly what
 * it would restore; targets changed since containment are refused unless
 * --force. The requester is whoever signs the request.
 */
export async function rollbackCommand(argv: string[], io: CommandIO = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: ROLLBACK_OPTIONS,
  });
  const incidentId = incidentArg(positionals, ROLLBACK_USAGE);
  const reason = values.reason?.trim();
  if (!reason) {
    throw new CliError(
      `--reason is required: say why, for the audit ledger\n${ROLLBACK_USAGE}`,
      EXIT.usage,
    );
  }
  if (values.step !== undefined && !STEP_ID.test(values.step)) {
    throw new CliError(
      `--step: "${values.step}" is not a step id (letters and digits, as cordon show lists them)`,
      EXIT.usage,
    );
  }
  const request = RollbackRequestBodySchema.safeParse({
    incidentId,
    ...(values.step !== undefined ? { step: values.step } : {}),
    force: values.force,
    reason,
  });
  if (!request.success) {
    const { where, message } = firstIssue(request.error);
    throw new CliError(`invalid rollback: ${where}: ${message}`, EXIT.usage);
  }
  const response = await (await client(values, io)).rollback(request.data);
  printer(io)(values.json ? asJson(response) : formatRollback(response));
  return 0;
}

const DISMISS_OPTIONS = { ...OPTIONS, reason: { type: 'string' } } as const;

/**
 * `cordon dismiss <incident>`: the caller judges the incident's finding a
 * false positive. Later emissions of it are recorded and notified, never
 * acted on. The responder who dismisses is whoever signs the request.
 */
export async function dismissCommand(argv: string[], io: CommandIO = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: DISMISS_OPTIONS,
  });
  const incidentId = incidentArg(positionals, DISMISS_USAGE);
  const reason = values.reason?.trim();
  if (!reason) {
    throw new CliError(
      `--reason is required: say why it is a false positive, for the audit ledger\n${DISMISS_USAGE}`,
      EXIT.usage,
    );
  }
  const request = DismissRequestSchema.safeParse({ incidentId, reason });
  if (!request.success) {
    const { where, message } = firstIssue(request.error);
    throw new CliError(`invalid dismissal: ${where}: ${message}`, EXIT.usage);
  }
  const response = await (await client(values, io)).dismiss(request.data);
  printer(io)(values.json ? asJson(response) : formatDismissal(response));
  return 0;
}

/** What the dismissal did, and what it left to decide. */
export function formatDismissal(response: DismissResponse): string {
  const lines = [
    `${yellow('Dismissed')} ${response.incidentId}: later emissions of its finding are recorded and notified, never acted on.`,
  ];
  if (response.waiting.length > 0) {
    lines.push(
      `  Still waiting for a decision: ${response.waiting.join(', ')}; a dismissal does not decide them: cordon reject ${response.incidentId} --step STEP --reason "…"`,
    );
  }
  return lines.join('\n');
}

/** What the rollback request did, and what happens next. */
export function formatRollback(response: RollbackResponse): string {
  const what =
    response.step === undefined
      ? response.incidentId
      : `step ${response.step} of ${response.incidentId}`;
  return [
    `${yellow('Requested')} rollback of ${what}${response.force ? ' (--force: changed targets are restored too)' : ''}.`,
    `  It waits for a responder's approval before it restores anything: cordon pending`,
    dim(`  execution ${response.executionArn}`),
  ].join('\n');
}

/** 90 000 → "1 min"; 3 900 000 → "1 h 5 min"; 93 600 000 → "1 d 2 h". */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

function age(at: string, now: Date): string {
  const ms = now.getTime() - Date.parse(at);
  if (Number.isNaN(ms)) return `at ${at}`;
  return ms < 60_000 ? 'just now' : `${formatDuration(ms)} ago`;
}

function timeLeft(expiresAt: string, now: Date): string {
  const ms = Date.parse(expiresAt) - now.getTime();
  if (Number.isNaN(ms)) return `expires ${expiresAt}`;
  if (ms <= 0) return red(`expired ${age(expiresAt, now)}`);
  return ms < 60_000 ? red('less than a minute left') : `${formatDuration(ms)} left`;
}

const SEVERITY_COLOR: Record<string, (s: string) => string> = {
  CRITICAL: red,
  HIGH: red,
  MEDIUM: yellow,
};

function approvalsLine(step: PendingApproval): string {
  const count = `${step.approvals.length} of ${step.approvalsRequired} approvals`;
  if (step.approvals.length === 0) return count;
  return `${count} (by ${step.approvals.map((a) => shortArn(a.approver)).join(', ')})`;
}

function formatStep(step: PendingApproval, now: Date): string {
  const severity = (SEVERITY_COLOR[step.severityLabel] ?? ((s: string) => s))(step.severityLabel);
  const proposal = step.proposal.split('\n').join('\n            ');
  const lines = [
    `${bold(step.incidentId)} · step ${bold(step.step)} · playbook ${step.playbook}`,
    `  requested ${age(step.requestedAt, now)} · ${timeLeft(step.expiresAt, now)}`,
    `  ${severity} ${step.findingType} in account ${step.account}`,
  ];
  if (step.targetArn) lines.push(`  target:   ${shortArn(step.targetArn)}`);
  lines.push(`  proposal: ${proposal}`);
  if (step.approvalsRequired > 1) lines.push(`  ${approvalsLine(step)}`);
  lines.push(dim(`  cordon approve|reject ${step.incidentId} --step ${step.step} --reason "…"`));
  return lines.join('\n');
}

/** The waiting steps, one block each, for people. */
export function formatPending(response: PendingResponse, now: Date): string {
  const { pending } = response;
  if (pending.length === 0) return 'No approvals are waiting.';
  const head = pending.length === 1 ? '1 step is waiting' : `${pending.length} steps are waiting`;
  return [`${head} for a decision:`, ...pending.map((step) => formatStep(step, now))].join('\n\n');
}

const OUTCOME_COLOR: Record<string, (s: string) => string> = {
  CONTAINED: green,
  ALREADY_CONTAINED: green,
  APPROVED: green,
  CLAIMED: dim,
  INTENT: dim,
  DRY_RUN: yellow,
  APPROVAL_REQUESTED: yellow,
  AWAITING_SECOND_APPROVER: yellow,
  NOT_ACTED_ON: yellow,
  REJECTED_UNVERIFIED: red,
  TIMEOUT_UNVERIFIED: red,
  REJECTED: yellow,
  REFUSED: yellow,
  REEMITTED: dim,
  DISMISSED: yellow,
  FAILED: red,
  ROLLED_BACK: green,
  ALREADY_ROLLED_BACK: green,
  ROLLBACK_REQUESTED: yellow,
  ROLLBACK_REFUSED: yellow,
  ROLLBACK_SKIPPED: yellow,
};

/** `2024-05-01T12:00:03.123Z` → `2024-05-01 12:00:03Z`; anything else as is. */
function clock(at: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(at);
  return m ? `${m[1]} ${m[2]}Z` : at;
}

function clip(text: string, room: number | undefined): string {
  if (room === undefined || text.length <= room) return text;
  return `${text.slice(0, Math.max(room - 1, 10))}…`;
}

/**
 * An incident's ledger as a table, one line per entry: time, sequence, step,
 * outcome, who acted and what happened. Summaries longer than `width` are cut.
 */
export function formatTimeline(
  timeline: TimelineResponse,
  options: {
    readonly width?: number;
    /** Say which attack sequence a member belongs to. @default true */
    readonly memberLine?: boolean;
  } = {},
): string {
  const { entries } = timeline;
  const count = entries.length === 1 ? '1 ledger entry' : `${entries.length} ledger entries`;
  const place = claimedWhere(entries);
  const { parent } = familyOf(entries);
  const head = [
    `${bold(timeline.incidentId)}: ${place === undefined ? '' : `${place}: `}${count}`,
    ...(parent === undefined || options.memberLine === false
      ? []
      : [`  member of attack sequence ${parent}; \`cordon show ${parent}\` for the whole set`]),
  ].join('\n');
  if (entries.length === 0) return head;
  const rows = entries.map((e) => ({
    at: clock(e.at),
    seq: `#${e.seq}`,
    step: e.step,
    outcome: e.outcome,
    actor: shortArn(e.actor),
    what: e.summary ?? (e.targetArn ? shortArn(e.targetArn) : ''),
  }));
  const widest = (key: keyof (typeof rows)[number]) => Math.max(...rows.map((r) => r[key].length));
  const w = {
    at: widest('at'),
    seq: widest('seq'),
    step: widest('step'),
    outcome: widest('outcome'),
    actor: widest('actor'),
  };
  const lines = rows.map((r) => {
    const color = OUTCOME_COLOR[r.outcome] ?? ((s: string) => s);
    const lead = `  ${dim(r.at.padEnd(w.at))}  ${r.seq.padStart(w.seq)}  ${r.step.padEnd(w.step)}  `;
    const tail = `  ${r.actor.padEnd(w.actor)}  `;
    const used = 2 + w.at + 2 + w.seq + 2 + w.step + 2 + w.outcome + tail.length;
    const room = options.width === undefined ? undefined : options.width - used;
    return `${lead}${color(r.outcome.padEnd(w.outcome))}${tail}${clip(r.what, room)}`.trimEnd();
  });
  return [head, ...lines].join('\n');
}

const ClaimedPlace = z.object({
  detail: z.object({
    validated: z.object({ account: z.string(), region: z.string() }),
  }),
});

/**
 * `account <id> (<region>)`: where triage's claim says the incident's calls
 * are made (organization-wide, a member account). Claims written before
 * they were recorded say nothing.
 */
function claimedWhere(entries: TimelineResponse['entries']): string | undefined {
  for (const entry of entries) {
    if (entry.step !== 'triage' || entry.outcome !== 'CLAIMED') continue;
    const claimed = ClaimedPlace.safeParse(entry).data?.detail.validated;
    if (claimed) return `account ${claimed.account} (${claimed.region})`;
  }
  return undefined;
}

/** One line saying what the decision did. */
export function formatDecision(response: DecisionResponse): string {
  const { step, incidentId, approvals, approvalsRequired } = response;
  switch (response.status) {
    case 'APPROVED': {
      const who =
        approvalsRequired > 1
          ? ` ${approvals.length} of ${approvalsRequired} approvals (${approvals.map((a) => shortArn(a.approver)).join(', ')});`
          : '';
      return `${green('Approved')} step ${step} of ${incidentId}:${who} the step runs now.`;
    }
    case 'AWAITING_SECOND_APPROVER':
      return `${yellow('Recorded')} your approval of step ${step} of ${incidentId}: ${approvals.length} of ${approvalsRequired}; a different responder must approve too.`;
    case 'REJECTED':
      return `${yellow('Rejected')} step ${step} of ${incidentId}: the step will not run.`;
  }
}
