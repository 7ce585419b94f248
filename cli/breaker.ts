import { parseArgs } from 'node:util';
import { type BreakerStatus, REASON_MAX } from '../functions/responder-api/contract.js';
import { CONNECTION_USAGE, type CommandIO } from './approvals.js';
import { connect, EXIT } from './endpoint.js';
import { CliError } from './errors.js';
import { bold, green, red, shortArn } from './format.js';

/**
 * `cordon breaker status` and `cordon breaker reset --reason TEXT`: the
 * circuit breaker that makes every automatic step wait for approval after a
 * flood of containments, through the approval endpoint.
 */

export const BREAKER_USAGE = `usage: cordon breaker status|reset [--reason TEXT] [--json] ${CONNECTION_USAGE}`;

const OPTIONS = {
  endpoint: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  reason: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export async function breakerCommand(argv: string[], io: CommandIO = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: OPTIONS,
  });
  const [sub, ...extra] = positionals;
  if ((sub !== 'status' && sub !== 'reset') || extra.length > 0) {
    throw new CliError(`say status or reset\n${BREAKER_USAGE}`, EXIT.usage);
  }
  const print = io.print ?? ((text: string) => console.log(text));
  const reason = values.reason?.trim();
  if (sub === 'reset' && !reason) {
    throw new CliError(
      `--reason is required: say why, for the audit ledger\n${BREAKER_USAGE}`,
      EXIT.usage,
    );
  }
  if (reason !== undefined && reason.length > REASON_MAX) {
    throw new CliError(`--reason: at most ${REASON_MAX} characters`, EXIT.usage);
  }
  const connection = {
    ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
    ...(values.stack === undefined ? {} : { stack: values.stack }),
    ...(values.region === undefined ? {} : { region: values.region }),
  };
  const client = await connect(connection, io.deps);
  const status =
    sub === 'reset' ? await client.resetBreaker({ reason: reason ?? '' }) : await client.breaker();
  print(values.json ? JSON.stringify(status, null, 2) : formatBreaker(status, sub === 'reset'));
  return 0;
}

export function formatBreaker(status: BreakerStatus, justReset: boolean): string {
  if (status.state === 'TRIPPED') {
    return [
      `${red(bold('TRIPPED'))} at ${status.trippedAt ?? '?'} by ${status.trippedBy ?? '?'} (${status.count ?? '?'} automatic containments in the window)`,
      'every automatic step waits for approval; when the flood is understood:',
      '  cordon breaker reset --reason "..."',
    ].join('\n');
  }
  const reset =
    status.resetBy !== undefined
      ? `; last reset ${status.resetAt ?? '?'} by ${shortArn(status.resetBy)}`
      : '';
  return `${green(bold('CLOSED'))}${justReset ? ': automatic steps run again' : ''}${reset}`;
}
