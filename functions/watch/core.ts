import { SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { clientOptions } from '../shared/aws.js';
import { boot } from '../shared/boot.js';
import { type Environment, requireEnv, requireJsonEnv } from '../shared/env.js';
import { classifyAwsError } from '../shared/errors.js';
import { taskHandler } from '../shared/handler.js';
import type { Ledger, LedgerEntry, LedgerEntryInput } from '../shared/ledger.js';
import { publishInput } from '../shared/notice.js';
import { ENV } from '../shared/runtime-config.js';
import { z } from '../shared/z.js';
import {
  type EventEnvelope,
  EventEnvelopeSchema,
  readWatchedEvent,
  type WatchedEvent,
} from './events.js';
import { WatchedMachineSchema } from './executions.js';
import { stopReport, unfinishedReport } from './stops.js';
import { modeReport, ruleReport } from './switches.js';

export { WATCH_LEDGER } from './switches.js';

/**
 * The watch: what stops Cordon or switches it off without a word otherwise.
 * EventBridge rules deliver four kinds of event here, and each becomes a
 * ledger entry and a notification:
 * - an execution of one of Cordon's state machines that ended without its
 *   failure path: ABORTED (StopExecution does that), TIMED_OUT, or FAILED
 *   past every Catch (States.DataLimitExceeded, States.Runtime), recorded in
 *   the incident it was about;
 * - a StopExecution call on one of them, with who made it (CloudTrail);
 * - a call that writes, deletes or relabels the runtime mode parameter, with
 *   who made it and what the parameter reads now (CloudTrail);
 * - a call that disables, deletes or redefines one of Cordon's rules, or
 *   removes or replaces its targets, with who made it (CloudTrail).
 *
 * Nothing in an event is trusted beyond locating what it is about: the
 * execution, its status, its dates and its input are read from Step
 * Functions, so a forged event about a running execution records nothing.
 * A repeated delivery appends nothing, and is not notified again once a
 * notification of it is recorded.
 */

export const WatchConfigSchema = z.strictObject({
  /** Every playbook's state machine, and the rollback machine. */
  machines: z.array(WatchedMachineSchema).min(1),
  /** The runtime mode parameter (`/cordon/mode`). */
  runtimeModeParameter: z.string().startsWith('/'),
});
export type WatchConfig = z.infer<typeof WatchConfigSchema>;

export interface WatchDeps {
  readonly ledger: Ledger;
  /** The watch's role ARN: the ledger's actor. */
  readonly actor: string;
  readonly sns: SNSClient;
  readonly topicArn: string;
  readonly sfn: SFNClient;
  readonly ssm: SSMClient;
  readonly config: WatchConfig;
  readonly now: () => Date;
}

export type WatchResult =
  | {
      readonly status: 'recorded';
      readonly ledgerId: string;
      readonly seq: number;
      /** False for a repeated delivery: the entry was there already. */
      readonly appended: boolean;
      /** False when a notification of the event is recorded already. */
      readonly notified: boolean;
    }
  | { readonly status: 'ignored'; readonly reason: string };

const NOTIFIED = 'NOTIFIED';

/** One event, ready to record and tell. */
export interface Report {
  readonly ledgerId: string;
  /** The same for every delivery of one event, and different for any other. */
  readonly eventKey: string;
  readonly entry: LedgerEntryInput;
  readonly subject: string;
  readonly lines: readonly string[];
}

/** Records and notifies what the event says, or says why it does not. */
export async function watch(event: EventEnvelope, deps: WatchDeps): Promise<WatchResult> {
  const report = await reportOf(readWatchedEvent(event), deps);
  return typeof report === 'string' ? { status: 'ignored', reason: report } : record(deps, report);
}

function reportOf(watched: WatchedEvent, deps: WatchDeps): Promise<Report | string> | string {
  switch (watched.kind) {
    case 'status-change':
      return unfinishedReport(watched, deps);
    case 'stop-execution':
      return stopReport(watched, deps);
    case 'parameter':
      return modeReport(watched, deps);
    case 'rule':
      return ruleReport(watched, deps);
    default:
      return watched.reason;
  }
}

/**
 * Appends the report's entry unless the ledger holds it (a repeated
 * delivery), then notifies unless a notification of the same event is
 * recorded, and records that notification.
 */
async function record(deps: WatchDeps, report: Report): Promise<WatchResult> {
  const { ledgerId, eventKey } = report;
  const keyOf = (e: LedgerEntry) => e.detail?.eventKey;
  const isEvent = (e: LedgerEntry) => e.outcome !== NOTIFIED && keyOf(e) === eventKey;
  const isNotice = (e: LedgerEntry) => e.outcome === NOTIFIED && keyOf(e) === eventKey;
  const entry = {
    ...report.entry,
    detail: { ...report.entry.detail, eventKey, recordedBy: 'watch' },
  };
  const recorded = await deps.ledger.appendOnce(ledgerId, entry, isEvent);
  const { seq } = recorded.entry;
  const result = { status: 'recorded', ledgerId, seq, appended: recorded.appended } as const;
  if (recorded.entries.some(isNotice)) return { ...result, notified: false };
  const message = [...report.lines, '', `Ledger: ${ledgerId} #${seq}`].join('\n');
  let messageId: string;
  try {
    const out = await deps.sns.send(
      new PublishCommand(
        publishInput(deps.topicArn, {
          subject: report.subject,
          text: message,
          // Cordon's own words: the subject may name a caller.
          title: `Cordon watch: ${report.entry.outcome} in ${ledgerId}`,
          kind: `WATCH_${report.entry.outcome}`,
          incidentId: ledgerId,
          nextSteps: [`npx cordon show ${ledgerId}`],
        }),
      ),
    );
    messageId = out.MessageId ?? 'unknown';
  } catch (error) {
    throw classifyAwsError(error, 'watch publish');
  }
  await deps.ledger.appendOnce(
    ledgerId,
    {
      step: 'notify',
      action: 'watch',
      actor: deps.actor,
      outcome: NOTIFIED,
      summary: report.subject,
      ...(entry.executionArn === undefined ? {} : { executionArn: entry.executionArn }),
      ...(entry.findingId === undefined ? {} : { findingId: entry.findingId }),
      detail: { eventKey, messageId },
    },
    isNotice,
  );
  return { ...result, notified: true };
}

export function makeHandler(
  env: Environment,
  clients = {
    sns: new SNSClient(clientOptions),
    sfn: new SFNClient(clientOptions),
    ssm: new SSMClient(clientOptions),
  },
) {
  const { logger, ledger, actor, now } = boot(env, 'watch');
  const deps: WatchDeps = {
    ...clients,
    ledger,
    actor,
    now,
    topicArn: requireEnv(env, ENV.topicArn),
    config: requireJsonEnv(env, ENV.watch, WatchConfigSchema),
  };
  return taskHandler(logger, EventEnvelopeSchema, async (event) => {
    const result = await watch(event, deps);
    if (result.status === 'ignored') {
      logger.warn('event not recorded', {
        source: event.source,
        detailType: event['detail-type'],
        reason: result.reason,
      });
    } else {
      logger.info('event recorded', { ...result, detailType: event['detail-type'] });
    }
    return result;
  });
}
