#!/usr/bin/env -S npx tsx
import { ConfigValidationError } from '../infra/config.js';
import { CliError } from './errors.js';
import { REHEARSE_USAGE, rehearseCommand } from './rehearse.js';

const USAGE = `cordon: containment for AWS, scoped, overseen and auditable

commands:
  ${REHEARSE_USAGE.replace('usage: ', '')}
      run events through the deployed playbook definitions, locally, against
      wherever the AWS SDK points (AWS_ENDPOINT_URL for an emulator)`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  rehearse: rehearseCommand,
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
