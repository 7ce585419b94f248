import type { TriageResult } from '../../../functions/shared/incident.js';
import { parseFindingEvent } from '../../../functions/triage/parse/index.js';
import { type TriageContext, type TriageDeps, triage } from '../../../functions/triage/triage.js';

/** No import from helpers.ts: its client mocks would replace the emulator's clients in integration tests. */
const ACCOUNT = '123456789012';
let executions = 0;

/**
 * Triage as its task runs it: in an execution of its own (a new ARN each
 * call, so a redelivery is a duplicate, not a resumption) of the playbook
 * the event routes to, unless the test names either. The route is the one
 * `cordon rehearse` derives from the resource type; an event it cannot
 * route is run as iam-credentials, which refuses it the same way.
 */
export function runTriage(
  event: unknown,
  deps: TriageDeps,
  context: Partial<TriageContext> = {},
): Promise<TriageResult> {
  executions += 1;
  const playbook = context.playbook ?? routedPlaybook(event);
  return triage(event, deps, {
    executionArn: `arn:aws:states:us-east-1:${ACCOUNT}:execution:cordon-${playbook}:test-${executions}`,
    playbook,
    ...context,
  });
}

function routedPlaybook(event: unknown): TriageContext['playbook'] {
  try {
    const parsed = parseFindingEvent(event);
    if (parsed.status !== 'unhandled') return parsed.finding.playbook;
  } catch {
    // Triage refuses it again, with the same error.
  }
  return 'iam-credentials';
}
