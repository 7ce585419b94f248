import { quoted } from '../../shared/text.js';
import { defineAction, recorded, shown } from '../definition.js';

/**
 * Sets a function's reserved concurrency to 0, so no new invocation starts;
 * its rollback puts the recorded concurrency back.
 */
export const action = defineAction({
  name: 'quarantine-function',
  target: 'resource',
  blastRadius: (incident) =>
    `function ${quoted(incident.lambdaFunction?.name ?? '(none named)', 140)} stops running: every invocation (events, API calls, schedules) is throttled until its concurrency is restored`,
  rollback: {
    label: 'Restore function concurrency',
    restores: ({ before, after, targetArn }) =>
      `${targetArn ?? '(unknown target)'}: reserved concurrency ${shown(recorded(after, 'reservedConcurrency'))} -> ${shown(recorded(before, 'reservedConcurrency'))}`,
  },
});
