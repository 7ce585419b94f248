import type { LedgerEntry } from '../functions/shared/ledger.js';
import type { EventReport, ExecutionReport } from '../rehearsal/engine.js';

const useColor = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const paint = (code: number) => (text: string) =>
  useColor ? `\u001b[${code}m${text}\u001b[0m` : text;
export const bold = paint(1);
export const dim = paint(2);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);

const OUTCOME_COLOR: Record<string, (s: string) => string> = {
  CONTAINED: green,
  ALREADY_CONTAINED: green,
  CLAIMED: dim,
  INTENT: dim,
  DRY_RUN: yellow,
  APPROVAL_REQUESTED: yellow,
  FIRST_APPROVAL: yellow,
  APPROVAL_GRANTED: green,
  APPROVAL_DENIED: yellow,
  DECISION_UNDELIVERED: red,
  NOT_ACTED_ON: yellow,
  REJECTED_UNVERIFIED: red,
  TIMEOUT_UNVERIFIED: red,
  REJECTED: yellow,
  REFUSED: yellow,
  FAILED: red,
};

export interface FormatOptions {
  /** Prefix of every line. */
  readonly indent?: string;
  /**
   * Longest line, in characters: longer summaries are cut with "…" (the JSON
   * output keeps them whole). @default the terminal's width, or no limit when
   * stdout is not a terminal
   */
  readonly width?: number;
}

const defaultWidth = (): number | undefined =>
  process.stdout.isTTY === true ? process.stdout.columns : undefined;

function clip(text: string, room: number | undefined): string {
  if (room === undefined || text.length <= room) return text;
  return `${text.slice(0, Math.max(room - 1, 10))}…`;
}

/** `arn:aws:sts::1:assumed-role/r/s` → `assumed-role/r/s`: the part a reader needs. */
export function shortArn(arn: string): string {
  const resource = /^arn:[^:]*:[^:]*:[^:]*:[^:]*:(.+)$/.exec(arn);
  return resource?.[1] ?? arn;
}

function approvalOf(entry: LedgerEntry): string | undefined {
  const approval = entry.detail?.approval;
  if (typeof approval !== 'object' || approval === null) return undefined;
  const decision = 'decision' in approval ? String(approval.decision).toLowerCase() : 'decided';
  const approver = 'approver' in approval ? ` by ${shortArn(String(approval.approver))}` : '';
  return `${decision}${approver}`;
}

/**
 * Ledger entries as an aligned table, one line each: sequence, step, outcome
 * and what was done; a step that waited for a responder gets a second line
 * saying who decided, once after the last of the actions that decision
 * covered.
 */
export function formatLedger(entries: readonly LedgerEntry[], options: FormatOptions = {}): string {
  const { indent = '  ', width = defaultWidth() } = options;
  if (entries.length === 0) return `${indent}${dim('(no ledger entries)')}`;
  const stepWidth = Math.max(...entries.map((e) => e.step.length));
  const outcomeWidth = Math.max(...entries.map((e) => e.outcome.length));
  return entries
    .map((e, i) => {
      const color = OUTCOME_COLOR[e.outcome] ?? ((s: string) => s);
      const head = `${indent}#${String(e.seq).padStart(2)} ${e.step.padEnd(stepWidth)}  `;
      const what = e.summary ?? (e.targetArn ? shortArn(e.targetArn) : '');
      const room = width === undefined ? undefined : width - head.length - outcomeWidth - 2;
      const line = `${head}${color(e.outcome.padEnd(outcomeWidth))}  ${clip(what, room)}`;
      const approval = approvalOf(e);
      const next = entries[i + 1];
      const sameDecisionNext =
        next !== undefined && next.step === e.step && approvalOf(next) === approval;
      if (!approval || sameDecisionNext) return line;
      return `${line}\n${' '.repeat(head.length + outcomeWidth + 2)}${dim(`↳ ${approval}`)}`;
    })
    .join('\n');
}

/** Joins `items` with `separator`, starting a new line (with `indent`) before `width`. */
function wrap(items: readonly string[], separator: string, indent: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    const next = line === '' ? item : `${line}${separator}${item}`;
    if (line !== '' && indent.length + next.length > width) {
      lines.push(line + separator.trimEnd());
      line = item;
    } else {
      line = next;
    }
  }
  if (line !== '') lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : `${indent}${l}`)).join('\n');
}

/**
 * One execution: status, the task and pass states it went through (choice
 * states, named with a trailing "?", are left out of this view; `--json` has
 * every state), any error, and its ledger entries.
 */
export function formatExecution(execution: ExecutionReport, options: FormatOptions = {}): string {
  const { indent = '  ', width = defaultWidth() } = options;
  const status = execution.status === 'SUCCEEDED' ? green(execution.status) : red(execution.status);
  const path = execution.states.filter((s) => !s.endsWith('?'));
  const pathIndent = `${indent}        `;
  const lines = [
    `${indent}playbook ${bold(execution.playbook)}: ${status}`,
    `${indent}  ${dim('path:')} ${wrap(path, ' → ', pathIndent, width ?? 100)}`,
  ];
  if (execution.error) {
    lines.push(`${indent}  ${red('error:')} ${execution.error.Error}: ${execution.error.Cause}`);
  }
  lines.push(
    `${indent}  ${dim('ledger:')}`,
    formatLedger(execution.ledger, { indent: `${indent}    `, ...(width ? { width } : {}) }),
  );
  return lines.join('\n');
}

export function formatEventReport(
  label: string,
  report: EventReport,
  options: FormatOptions = {},
): string {
  if (report.matched.length === 0) {
    return `${bold(label)}: no playbook matched; nothing to do`;
  }
  return [`${bold(label)}`, ...report.executions.map((x) => formatExecution(x, options))].join(
    '\n',
  );
}
