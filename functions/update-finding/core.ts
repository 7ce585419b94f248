import {
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { clientOptions } from '../shared/aws.js';
import { boot } from '../shared/boot.js';
import type { Environment } from '../shared/env.js';
import {
  type CordonError,
  classifyAwsError,
  InvalidTaskInputError,
  ServiceUnavailableError,
  UnexpectedAwsError,
} from '../shared/errors.js';
import { isOcsfProduct } from '../shared/finding-format.js';
import { taskHandler } from '../shared/handler.js';
import {
  type ActionResult,
  ActionResultSchema,
  type Incident,
  IncidentSchema,
} from '../shared/incident.js';
import type { Ledger } from '../shared/ledger.js';
import { boundedText } from '../shared/text.js';
import { z } from '../shared/z.js';
import { ocsfStatusId, type WorkflowStatus } from './status.js';

export const UpdateFindingInputSchema = z.strictObject({
  incident: IncidentSchema,
  /** PICKUP when containment starts; FINISH with every step's result. */
  phase: z.enum(['PICKUP', 'FINISH']),
  results: z.record(z.string(), ActionResultSchema).optional(),
  executionArn: z.string().min(1),
});
export type UpdateFindingInput = z.infer<typeof UpdateFindingInputSchema>;

export type UpdateFindingResult =
  | { readonly updated: true; readonly status: WorkflowStatus }
  | { readonly updated: false; readonly reason: string };

export type { WorkflowStatus } from './status.js';

export interface UpdateFindingDeps {
  readonly securityHub: SecurityHubClient;
  readonly ledger: Ledger;
  readonly actor: string;
}

/** Security Hub's limit on `Note.Text`. */
export const NOTE_MAX = 512;

const CONTAINED_OUTCOMES: ReadonlySet<string> = new Set(['CONTAINED', 'ALREADY_CONTAINED']);
// BatchUpdateFindings (and, in its own words, BatchUpdateFindingsV2) reports
// these per finding; a later attempt can succeed.
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'ConcurrentUpdateError',
  'InternalFailure',
  'ConflictException',
  'InternalServerException',
]);

/**
 * The results of the steps that apply to what the finding names: a step
 * that does not (a role has no access key to disable) is no part of
 * containing it.
 */
export function applicableResults(input: UpdateFindingInput): [string, ActionResult][] {
  const { plan } = input.incident;
  return Object.entries(input.results ?? {}).filter(([step]) => plan[step]?.applies !== false);
}

/** RESOLVED only when at least one step ran and every step that applies contained its target. */
export function workflowStatus(input: UpdateFindingInput): WorkflowStatus {
  if (input.phase === 'PICKUP') return 'NOTIFIED';
  const outcomes = applicableResults(input).map(([, r]) => r.outcome);
  return outcomes.length > 0 && outcomes.every((o) => CONTAINED_OUTCOMES.has(o))
    ? 'RESOLVED'
    : 'NOTIFIED';
}

export function findingNote(input: UpdateFindingInput, status: WorkflowStatus): string {
  const { incident } = input;
  const head = `Cordon ${incident.incidentId}:`;
  if (input.phase === 'PICKUP') {
    return boundedText(`${head} containment started (${incident.playbook})`, NOTE_MAX);
  }
  const steps = applicableResults(input).map(([step, r]) => `${step}: ${r.outcome} (${r.summary})`);
  const verdict =
    status === 'RESOLVED'
      ? 'contained'
      : steps.length === 0
        ? 'finished with no step results; needs a responder'
        : 'not fully contained; needs a responder';
  return boundedText(`${head} ${verdict} (${incident.playbook}). ${steps.join('; ')}`, NOTE_MAX);
}

/** What either API says of a finding it did not update. */
interface Unprocessed {
  readonly ErrorCode?: string | undefined;
  readonly ErrorMessage?: string | undefined;
}

function unprocessedError(finding: Unprocessed, api: string): CordonError {
  const code = finding.ErrorCode ?? 'Unknown';
  const message = `${api} did not update the finding: ${code}: ${boundedText(finding.ErrorMessage ?? '', 200)}`;
  if (TRANSIENT_CODES.has(code)) return new ServiceUnavailableError(message);
  // Reuse the shared vocabulary for codes that look like API errors (throttling...).
  const classified = classifyAwsError({ name: code }, api);
  return classified.retryable ? classified : new UnexpectedAwsError(message);
}

/**
 * Sends the update in the finding's own form: `BatchUpdateFindings`
 * (`Workflow`, `Note`) for ASFF, `BatchUpdateFindingsV2` (`StatusId`,
 * `Comment`, the two fields its role may set) for OCSF. Returns what was not
 * processed.
 */
async function sendUpdate(
  incident: Incident,
  productArn: string,
  status: WorkflowStatus,
  text: string,
  securityHub: SecurityHubClient,
): Promise<{ api: string; unprocessed: Unprocessed[] }> {
  if (isOcsfProduct(productArn)) {
    const out = await securityHub.send(
      new BatchUpdateFindingsV2Command({
        FindingIdentifiers: [
          {
            CloudAccountUid: incident.account,
            FindingInfoUid: incident.findingId,
            MetadataProductUid: productArn,
          },
        ],
        StatusId: ocsfStatusId(status),
        Comment: text,
      }),
    );
    return { api: 'BatchUpdateFindingsV2', unprocessed: out.UnprocessedFindings ?? [] };
  }
  const out = await securityHub.send(
    new BatchUpdateFindingsCommand({
      FindingIdentifiers: [{ Id: incident.findingId, ProductArn: productArn }],
      Workflow: { Status: status },
      Note: { Text: text, UpdatedBy: 'cordon' },
    }),
  );
  return { api: 'BatchUpdateFindings', unprocessed: out.UnprocessedFindings ?? [] };
}

/**
 * Marks the Security Hub finding NOTIFIED when containment starts and
 * RESOLVED (or leaves a note saying what is left) when it finishes.
 *
 * This cannot re-trigger Cordon: its Security Hub rules match only findings
 * whose Workflow.Status is NEW (ASFF) or whose status_id is 1 (OCSF), and
 * this function only ever sets NOTIFIED or RESOLVED (status_id 2 or 4).
 */
export async function updateFinding(
  input: UpdateFindingInput,
  deps: UpdateFindingDeps,
): Promise<UpdateFindingResult> {
  const { incident } = input;
  if (incident.source !== 'securityhub') {
    return {
      updated: false,
      reason: `finding source is ${incident.source}; only Security Hub findings are updated`,
    };
  }
  const productArn = requireProductArn(incident);
  const status = workflowStatus(input);
  const text = findingNote(input, status);
  let sent: { api: string; unprocessed: Unprocessed[] };
  try {
    sent = await sendUpdate(incident, productArn, status, text, deps.securityHub);
  } catch (error) {
    throw classifyAwsError(error, `update finding ${incident.findingId}`);
  }
  const first = sent.unprocessed[0];
  if (first) throw unprocessedError(first, sent.api);
  await deps.ledger.append(incident.incidentId, {
    step: 'finding',
    action: 'update-finding',
    actor: deps.actor,
    outcome: 'FINDING_UPDATED',
    summary: text,
    executionArn: input.executionArn,
    findingId: incident.findingId,
    detail: { status, phase: input.phase },
  });
  return { updated: true, status };
}

function requireProductArn(incident: Incident): string {
  if (incident.productArn === undefined || incident.productArn === '') {
    throw new InvalidTaskInputError(
      `Security Hub incident ${incident.incidentId} has no productArn; cannot update its finding`,
    );
  }
  return incident.productArn;
}

export function makeHandler(
  env: Environment,
  clients = { securityHub: new SecurityHubClient(clientOptions) },
) {
  const { logger, ledger, actor } = boot(env, 'update-finding');
  const deps: UpdateFindingDeps = { securityHub: clients.securityHub, ledger, actor };
  return taskHandler(logger, UpdateFindingInputSchema, async (input) => {
    logger.appendKeys({ incidentId: input.incident.incidentId, phase: input.phase });
    const result = await updateFinding(input, deps);
    logger.info('finding update finished', { ...result });
    return result;
  });
}
