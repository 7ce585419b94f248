import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { clientOptions } from '../shared/aws.js';
import { boot } from '../shared/boot.js';
import { SEQUENCE } from '../shared/catalog.js';
import { type Environment, requireEnv } from '../shared/env.js';
import { classifyAwsError } from '../shared/errors.js';
import { taskHandler } from '../shared/handler.js';
import {
  type ActionResult,
  ActionResultSchema,
  type Incident,
  IncidentSchema,
  type Sequence,
  TaskErrorSchema,
} from '../shared/incident.js';
import { INCIDENT_ID } from '../shared/incident-id.js';
import type { Ledger } from '../shared/ledger.js';
import { type Notice, publishInput } from '../shared/notice.js';
import { RollbackResultSchema, SkippedItemSchema } from '../shared/rollback.js';
import { ENV } from '../shared/runtime-config.js';
import { asciiLine, boundedText, causeText, quoted } from '../shared/text.js';
import { z } from '../shared/z.js';

export const NOTIFY_KINDS = [
  'SUMMARY',
  'REFUSED',
  'DUPLICATE',
  /** A finding a responder dismissed or rolled back was emitted again: recorded, not acted on. */
  'SUPPRESSED',
  'FAILURE',
  /** An approval timed out: the step was not acted on, and the playbook goes on. */
  'APPROVAL_TIMEOUT',
  /**
   * An approval wait ended in a rejection or timeout that cannot be shown to
   * come from a responder or from Step Functions: not acted on.
   */
  'APPROVAL_UNVERIFIED',
  /** A rollback finished: what was restored, refused or skipped, or why nothing was. */
  'ROLLBACK',
  /**
   * A step did not finish (a rotation that stalled or failed): recorded, and
   * the playbook goes on to the step that stands in for it.
   */
  'FALLBACK',
] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];

/** One member of an attack sequence, as the playbook's Map over the children leaves it. */
export const MemberResultSchema = z.strictObject({
  incidentId: z.string().regex(INCIDENT_ID),
  playbook: z.string().min(1),
  results: z.record(z.string(), ActionResultSchema),
  /** A step of the member failed (recorded on the child by record-failure). */
  failed: z.boolean(),
});
export type MemberResult = z.infer<typeof MemberResultSchema>;

/**
 * Strict, and with no field for a task token: a token cannot reach a
 * notification because the input that would carry it is refused.
 */
export const NotifyInputSchema = z.strictObject({
  kind: z.enum(NOTIFY_KINDS),
  incident: IncidentSchema.optional(),
  reason: z.string().optional(),
  results: z.record(z.string(), ActionResultSchema).optional(),
  /** An attack sequence's SUMMARY: each member's steps, in the order of the parent's list. */
  members: z.array(MemberResultSchema).max(SEQUENCE.limit).optional(),
  error: TaskErrorSchema.optional(),
  /** The ROLLBACK kind's report. */
  rollback: z
    .strictObject({
      incidentId: z.string().min(1),
      requestedBy: z.string().min(1),
      reason: z.string(),
      force: z.boolean(),
      results: z.array(RollbackResultSchema),
      skipped: z.array(SkippedItemSchema),
      /** Why nothing was rolled back: the rejection or timeout, as record-failure recorded it. */
      decision: ActionResultSchema.optional(),
    })
    .optional(),
  /** The incident a rollback's failure is about: the rollback machine's input names it, not an incident. */
  incidentId: z.string().regex(INCIDENT_ID).optional(),
  executionArn: z.string().min(1),
});
export type NotifyInput = z.infer<typeof NotifyInputSchema>;

/** The incident a notice is about, whichever field names it. */
const incidentIdOf = (input: NotifyInput): string | undefined =>
  input.incident?.incidentId ?? input.rollback?.incidentId ?? input.incidentId;

export interface NotifyDeps {
  readonly sns: SNSClient;
  readonly topicArn: string;
  readonly ledger: Ledger;
  readonly actor: string;
}

export interface NotifyResult {
  readonly messageId: string;
}

/** SNS subject limit. */
export const SUBJECT_MAX = 100;
const FIELD_MAX = 256;
const SUMMARY_MAX = 300;
const CAUSE_MAX = 1000;
const MAX_STEPS_SHOWN = 50;

const HEADINGS: Record<NotifyKind, string> = {
  SUMMARY: 'Cordon summary',
  REFUSED: 'Cordon refused to act',
  DUPLICATE: 'Cordon ignored a duplicate',
  SUPPRESSED: 'Cordon did not act: a dismissed or rolled back finding was emitted again',
  FAILURE: 'Cordon FAILED',
  APPROVAL_TIMEOUT: 'Cordon did not act (approval timed out)',
  APPROVAL_UNVERIFIED:
    'Cordon did not act (UNVERIFIED rejection or timeout: not from a responder or Step Functions)',
  ROLLBACK: 'Cordon rollback',
  FALLBACK: 'Cordon could not finish a step: a responder decides on its fallback',
};

export function notificationSubject(input: NotifyInput): string {
  const { incident, rollback } = input;
  if (rollback) {
    const count = (outcome: string) => rollback.results.filter((r) => r.outcome === outcome).length;
    const what = rollback.decision
      ? `not rolled back (${rollback.decision.outcome})`
      : `${count('ROLLED_BACK')} restored, ${count('ROLLBACK_REFUSED')} refused`;
    return asciiLine(`${HEADINGS[input.kind]}: ${rollback.incidentId}: ${what}`, SUBJECT_MAX);
  }
  const about = incident
    ? `: ${incident.severityLabel} in ${incident.account}: ${incident.findingType}`
    : '';
  return asciiLine(`${HEADINGS[input.kind]}${about}`, SUBJECT_MAX);
}

function incidentLines(incident: Incident): string[] {
  const { principal } = incident;
  return [
    `Incident: ${incident.incidentId}`,
    `Playbook: ${incident.playbook}`,
    `Finding type: ${quoted(incident.findingType, FIELD_MAX)}`,
    `Finding id: ${quoted(incident.findingId, FIELD_MAX)} (${incident.source})`,
    `Severity: ${incident.severityLabel} (${incident.severity})`,
    `Account / region: ${incident.account} / ${quoted(incident.region, 64)}`,
    ...(incident.instance ? [`Instance: ${quoted(incident.instance.arn, FIELD_MAX)}`] : []),
    ...(principal
      ? [
          `Principal: ${principal.kind} ${quoted(principal.arn, FIELD_MAX)}${
            principal.accessKeyId ? ` key ${quoted(principal.accessKeyId, 140)}` : ''
          }`,
        ]
      : []),
  ];
}

/** One line per step, but for steps that do not apply to what the finding names. */
function resultLines(results: Record<string, ActionResult>, incident?: Incident): string[] {
  const entries = Object.entries(results).filter(
    ([step]) => incident?.plan[step]?.applies !== false,
  );
  const lines = entries
    .slice(0, MAX_STEPS_SHOWN)
    .map(
      ([step, r]) =>
        `- ${boundedText(step, 64)}: ${r.outcome} [${r.mode}] ${boundedText(r.summary, SUMMARY_MAX)}`,
    );
  if (entries.length > MAX_STEPS_SHOWN) {
    lines.push(`- ... and ${entries.length - MAX_STEPS_SHOWN} more steps`);
  }
  return lines.length > 0 ? lines : ['- (no steps ran)'];
}

/**
 * Plain text a responder reads in an email or a chat. Every field that came
 * from a finding or an error is bounded and escaped, so it cannot add lines
 * or pose as Cordon's own text.
 */
/** A rollback's report: who asked and why, then each item's outcome, then what is left in place. */
function rollbackLines(rollback: NonNullable<NotifyInput['rollback']>): string[] {
  const results = rollback.results
    .slice(0, MAX_STEPS_SHOWN)
    .map(
      (r) =>
        `- ${boundedText(r.step, 64)} #${r.seq} ${r.action}: ${r.outcome} ${boundedText(r.summary, SUMMARY_MAX)}`,
    );
  return [
    `Incident: ${rollback.incidentId}`,
    `Requested by: ${boundedText(rollback.requestedBy, 2048)}${rollback.force ? ' (with --force)' : ''}`,
    `Reason: ${quoted(rollback.reason, FIELD_MAX * 2)}`,
    ...(rollback.decision
      ? [
          '',
          `Not rolled back: ${rollback.decision.outcome}: ${boundedText(rollback.decision.summary, SUMMARY_MAX)}`,
        ]
      : ['', 'Restored:', ...(results.length > 0 ? results : ['- (nothing ran)'])]),
    ...(rollback.skipped.length > 0
      ? [
          '',
          'Left in place:',
          ...rollback.skipped.map(
            (s) => `- ${boundedText(s.step, 64)} #${s.seq} ${s.action}: ${s.reason}`,
          ),
        ]
      : []),
  ];
}

/** Most characters a sequence's member or not-acted-on lines take; `cordon show` has the rest. */
const SEQUENCE_TEXT_MAX = 12_000;

/** Blocks of lines until `max` characters; then one line saying how many are left, from `more`. */
function withinBudget(
  blocks: readonly string[][],
  max: number,
  more: (left: number) => string,
): string[] {
  const lines: string[] = [];
  let used = 0;
  for (const [i, block] of blocks.entries()) {
    const size = block.reduce((n, line) => n + line.length + 1, 0);
    if (used + size > max) return [...lines, more(blocks.length - i)];
    lines.push(...block);
    used += size;
  }
  return lines;
}

/**
 * Each member of an attack sequence: what it is (as the parent lists it)
 * and how each of its steps ended, as any incident's steps are shown.
 */
function memberLines(members: readonly MemberResult[], incident?: Incident): string[] {
  const listed = incident?.sequence?.members ?? [];
  const blocks = members.map((m, i) => {
    const what = listed.find((l) => l.incidentId === m.incidentId)?.what;
    const name = what === undefined ? 'member' : quoted(what, FIELD_MAX);
    return [
      `${i + 1}. ${name} (${boundedText(m.playbook, 64)}, incident ${m.incidentId}): ${m.failed ? 'FAILED' : 'done'}`,
      ...resultLines(m.results).map((line) => `   ${line}`),
    ];
  });
  const failed = members.filter((m) => m.failed).length;
  return [
    '',
    `Members (${members.length}${failed > 0 ? `, ${failed} failed` : ''}):`,
    ...withinBudget(
      blocks,
      SEQUENCE_TEXT_MAX,
      (left) => `... and ${left} more members: npx cordon show ${incident?.incidentId ?? ''}`,
    ),
  ];
}

/** What an attack sequence names that Cordon did not act on: why, and the AWS guide to follow. */
function notActedOnLines(sequence: Sequence): string[] {
  const { notActedOn, notListed } = sequence;
  if (notActedOn.length === 0 && notListed === undefined) return [];
  const blocks = notActedOn.map((n) => [
    `- ${quoted(n.what, 64)} ${quoted(n.id, FIELD_MAX)}: ${quoted(n.reason, SUMMARY_MAX)}`,
    ...(n.guide === undefined ? [] : [`  not contained: follow ${boundedText(n.guide, 500)}`]),
  ]);
  return [
    '',
    `Not acted on (${notActedOn.length + (notListed ?? 0)}):`,
    ...withinBudget(blocks, SEQUENCE_TEXT_MAX, (left) => `- ... and ${left} more`),
    ...(notListed === undefined ? [] : [`- ... and ${notListed} more, not listed`]),
  ];
}

export function notificationMessage(input: NotifyInput): string {
  const lines = [HEADINGS[input.kind], ''];
  if (input.rollback) lines.push(...rollbackLines(input.rollback));
  else if (input.incident) lines.push(...incidentLines(input.incident));
  else if (input.incidentId) lines.push(`Incident: ${input.incidentId}`);
  else lines.push('Incident: none (the finding did not become an incident)');
  if (input.reason !== undefined) lines.push(`Reason: ${quoted(input.reason, FIELD_MAX * 2)}`);
  const { members } = input;
  // A sequence's parent runs no step of its own: its members' steps are what ran.
  if (
    input.results !== undefined &&
    (members === undefined || Object.keys(input.results).length > 0)
  ) {
    lines.push('', 'Steps:', ...resultLines(input.results, input.incident));
  }
  if (members !== undefined) lines.push(...memberLines(members, input.incident));
  const sequence = input.incident?.sequence;
  if (sequence !== undefined && (input.kind === 'SUMMARY' || input.kind === 'REFUSED')) {
    lines.push(...notActedOnLines(sequence));
  }
  if (input.error) {
    lines.push(
      '',
      `Error: ${quoted(input.error.Error, FIELD_MAX)}`,
      `Cause: ${quoted(causeText(input.error.Cause, CAUSE_MAX), CAUSE_MAX + 2)}`,
    );
  }
  lines.push('', `Execution: ${boundedText(input.executionArn, 2048)}`);
  return lines.join('\n');
}

/** The notice in both forms: the chat title holds the heading and the incident id only. */
function notice(input: NotifyInput, subject: string): Notice {
  const incidentId = incidentIdOf(input);
  return {
    subject,
    text: notificationMessage(input),
    title:
      incidentId === undefined ? HEADINGS[input.kind] : `${HEADINGS[input.kind]}: ${incidentId}`,
    kind: input.kind,
    ...(incidentId === undefined
      ? {}
      : { incidentId, nextSteps: [`npx cordon show ${incidentId}`] }),
  };
}

/** Publishes one message to the responders' topic. */
export async function notify(input: NotifyInput, deps: NotifyDeps): Promise<NotifyResult> {
  const subject = notificationSubject(input);
  let messageId: string;
  try {
    const out = await deps.sns.send(
      new PublishCommand(publishInput(deps.topicArn, notice(input, subject))),
    );
    messageId = out.MessageId ?? 'unknown';
  } catch (error) {
    throw classifyAwsError(error, 'notify publish');
  }
  const incidentId = incidentIdOf(input);
  if (incidentId !== undefined) {
    await deps.ledger.append(incidentId, {
      step: 'notify',
      action: 'notify',
      actor: deps.actor,
      outcome: 'NOTIFIED',
      summary: subject,
      executionArn: input.executionArn,
      ...(input.incident ? { findingId: input.incident.findingId } : {}),
      detail: { kind: input.kind, messageId },
    });
  }
  return { messageId };
}

export function makeHandler(env: Environment, clients = { sns: new SNSClient(clientOptions) }) {
  const { logger, ledger, actor } = boot(env, 'notify');
  const deps: NotifyDeps = {
    sns: clients.sns,
    topicArn: requireEnv(env, ENV.topicArn),
    ledger,
    actor,
  };
  return taskHandler(logger, NotifyInputSchema, async (input) => {
    if (input.incident) logger.appendKeys({ incidentId: input.incident.incidentId });
    const result = await notify(input, deps);
    logger.info('notification published', { kind: input.kind, messageId: result.messageId });
    return result;
  });
}
