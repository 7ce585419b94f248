import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { InvalidFindingError } from '../functions/shared/errors.js';
import { parseFindingEvent } from '../functions/triage/parse/index.js';
import {
  DECISIONS,
  type Decision,
  type EventReport,
  RehearsalEngine,
} from '../rehearsal/engine.js';
import { CliError } from './errors.js';
import { formatEventReport } from './format.js';

export const REHEARSE_USAGE =
  'usage: cordon rehearse <event.json>... [--decision approve|reject|timeout] [--json]';

const EnvelopeSchema = z.looseObject({ source: z.string(), 'detail-type': z.string() });

/**
 * Validates every file before anything runs: nothing is acted on when any
 * input is invalid.
 */
export async function loadEvents(files: readonly string[]): Promise<unknown[]> {
  const events: unknown[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new CliError(
        `${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`,
      );
    }
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch (error) {
      throw new CliError(`${file}: not valid JSON (${(error as Error).message})`);
    }
    if (!EnvelopeSchema.safeParse(event).success) {
      throw new CliError(`${file}: not an EventBridge event (needs "source" and "detail-type")`);
    }
    try {
      parseFindingEvent(event);
    } catch (error) {
      if (error instanceof InvalidFindingError) throw new CliError(`${file}: ${error.message}`);
      throw error;
    }
    events.push(event);
  }
  return events;
}

export interface RehearseResult {
  readonly events: { readonly file: string; readonly report: EventReport }[];
}

export async function rehearseCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      decision: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) throw new CliError(`no event file given\n${REHEARSE_USAGE}`);
  const decision = values.decision ?? 'timeout';
  if (!(DECISIONS as readonly string[]).includes(decision)) {
    throw new CliError(`--decision must be one of ${DECISIONS.join(', ')}, not "${decision}"`);
  }
  const events = await loadEvents(positionals);
  const engine = await RehearsalEngine.create({ decision: decision as Decision });

  const result: RehearseResult = { events: [] };
  for (const [index, event] of events.entries()) {
    const file = positionals[index] ?? `event ${index}`;
    const report = await engine.rehearse(event);
    result.events.push({ file, report });
    if (!values.json) console.log(formatEventReport(basename(file), report));
  }
  if (values.json) console.log(JSON.stringify(result, null, 2));
  const failed = result.events.some((e) => e.report.executions.some((x) => x.status === 'FAILED'));
  return failed ? 1 : 0;
}
