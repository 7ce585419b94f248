#!/usr/bin/env node
// The package runs this compiled, with node (dist/cli/bin.js); a clone runs it through tsx: npm run cordon -- <command>.
import { ConfigValidationError } from '../infra/config.js';
import {
  APPROVE_USAGE,
  approveCommand,
  CONNECTION_USAGE,
  DISMISS_USAGE,
  dismissCommand,
  PENDING_USAGE,
  pendingCommand,
  REJECT_USAGE,
  ROLLBACK_USAGE,
  rejectCommand,
  rollbackCommand,
  SHOW_USAGE,
  showCommand,
} from './approvals.js';
import { BREAKER_USAGE, breakerCommand } from './breaker.js';
import { CliError } from './errors.js';
import { LEDGER_USAGE, ledgerCommand } from './ledger.js';
import { REHEARSE_USAGE, rehearseCommand } from './rehearse.js';
import { REPORT_USAGE, reportCommand } from './report.js';

/** A command's usage line without "usage: " and the connection options. */
const command = (usage: string) => usage.replace('usage: ', '').replace(` ${CONNECTION_USAGE}`, '');

const USAGE = `cordon: containment for AWS, scoped, overseen and auditable

commands:
  ${REHEARSE_USAGE.replace('usage: ', '')}
      run events through the deployed playbook definitions, locally, against
      wherever the AWS SDK points (AWS_ENDPOINT_URL for an emulator); -c cordon='{...}'
      or --context-file (a JSON file holding the cordon object) replaces cdk.json's
      cordon configuration for the rehearsal, validated as synth validates it

responder commands (the approval endpoint, signed with your own AWS credentials):
  ${command(PENDING_USAGE)}
      the steps waiting for a decision: what each would do, to what, and how long is left
  ${command(SHOW_USAGE)}
      an incident's timeline, from its audit ledger
  ${command(APPROVE_USAGE)}
  ${command(REJECT_USAGE)}
      decide a waiting step (--step when more than one of the incident's steps waits);
      you are the approver, as AWS authenticates you; a two-person step needs two responders
  ${command(BREAKER_USAGE)}
      the circuit breaker: status, or reset it once a flood of containments is understood
  ${command(ROLLBACK_USAGE)}
      restore what the incident's containment changed, from the ledger's before-states, after
      a responder approves; a target changed since containment is refused unless --force;
      later emissions of its finding are then recorded and notified, never acted on
  ${command(DISMISS_USAGE)}
      judge the incident's finding a false positive: later emissions of it are recorded
      and notified, never acted on; you may not dismiss an incident about yourself
  each takes ${CONNECTION_USAGE}; the endpoint is
  --endpoint, else $CORDON_APPROVAL_URL, else the stack's ApprovalUrl output
  (--stack, default Cordon); --json prints the endpoint's answer, for scripts

audit commands (read the ledger table directly, with your own AWS credentials):
  ${LEDGER_USAGE.replace('usage: ', '')}
      check every incident's hash chain, MACs and anchors (or one's): one line per
      incident, OK or BROKEN with the first broken link; the table is --table,
      else $CORDON_LEDGER_TABLE, else the stack's LedgerTableName output (the key:
      --key, $CORDON_LEDGER_KEY, LedgerKeyArn; the anchors: --anchors,
      $CORDON_LEDGER_ANCHORS, LedgerAnchorsBucket, or --skip-anchors); needs
      dynamodb:Scan (dynamodb:Query with --incident) on the table, kms:VerifyMac
      on the key and s3:ListBucketVersions on the anchors bucket
  ${REPORT_USAGE.replace('usage: ', '')}
      time to contain (p50, p90, p99, max and a histogram, from the finding's creation
      and from its arrival) and the steps' outcomes, over the window --since (30m, 12h,
      7d; default 7d); the table as for verify; needs dynamodb:Scan on it

exit status:
  0 done
  1 failure: network, or an answer the contract does not allow
  2 usage or invalid input, or no approval endpoint, ledger table, key or anchors
  3 no AWS credentials
  4 not permitted: not a Cordon responder, or may not read the ledger table
  5 unknown incident or step (or an incident with no ledger entries)
  6 refused (already decided or dismissed, same approver, ambiguous step, expired, breaker not tripped)
  7 a ledger chain, MAC or anchor is broken (cordon ledger verify)`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  rehearse: rehearseCommand,
  pending: pendingCommand,
  show: showCommand,
  approve: approveCommand,
  reject: rejectCommand,
  breaker: (argv) => breakerCommand(argv),
  rollback: (argv) => rollbackCommand(argv),
  dismiss: (argv) => dismissCommand(argv),
  ledger: (argv) => ledgerCommand(argv),
  report: (argv) => reportCommand(argv),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) throw new CliError(`unknown command "${command}"\n${USAGE}`);
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof CliError || error instanceof ConfigValidationError) {
      console.error(`cordon: ${error.message}`);
      process.exitCode = error instanceof CliError ? error.exitCode : 2;
      return;
    }
    if (
      error instanceof TypeError &&
      'code' in error &&
      String(error.code).startsWith('ERR_PARSE_ARGS')
    ) {
      console.error(`cordon: ${error.message}`);
      process.exitCode = 2;
      return;
    }
    console.error(
      `cordon: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
    process.exitCode = 1;
  },
);
