import type { LedgerEntry } from '../functions/shared/ledger.js';
import type { EventReport, ExecutionReport } from './rehearsal/engine.js';

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
  DRY_RUN: yellow,
  APPROVAL_REQUESTED: yellow,
  NOT_ACTED_ON: yellow,
  REJECTED: yellow,
  REFUSED: yellow,
  FAILED: red,
};

/** Ledger entries as an aligned table, one line each. */
export function formatLedger(entries: readonly LedgerEntry[], indent = '  '): string {
  if (entries.length === 0) return `${indent}${dim('(no ledger entries)')}`;
  const stepWidth = Math.max(...entries.map((e) => e.step.length));
  const outcomeWidth = Math.max(...entries.map((e) => e.outcome.length));
  return entries
    .map((e) => {
      const color = OUTCOME_COLOR[e.outcome] ?? ((s: string) => s);
      const mode = e.mode ? dim(` [${e.mode}]`) : '';
      return `${indent}#${String(e.seq).padStart(2)} ${e.step.padEnd(stepWidth)}  ${color(
        e.outcome.padEnd(outcomeWidth),
      )}  ${e.summary ?? e.targetArn ?? ''}${mode}`;
    })
    .join('\n');
}

export function formatExecution(execution: ExecutionReport): string {
  const status =
    execution.status === 'SUCCEEDED' ? green(execution.status) : red(execution.status);
  const lines = [
    `  playbook ${bold(execution.playbook)}: ${status}`,
    `    ${dim('path:')} ${execution.states.join(dim(' → '))}`,
  ];
  if (execution.error) {
    lines.push(`    ${red('error:')} ${execution.error.Error}: ${execution.error.Cause}`);
  }
  lines.push(`    ${dim('ledger:')}`, formatLedger(execution.ledger, '      '));
  return lines.join('\n');
}

export function formatEventReport(label: string, report: EventReport): string {
  if (report.matched.length === 0) {
    return `${bold(label)}: no playbook matched; nothing to do`;
  }
  return [`${bold(label)}`, ...report.executions.map(formatExecution)].join('\n');
}
