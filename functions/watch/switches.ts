import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { boundedText, quoted } from '../shared/text.js';
import { z } from '../shared/z.js';
import type { Report, WatchDeps } from './core.js';
import { type ApiCall, cloudTrailKey, type WatchedEvent } from './events.js';
import { callerName, callLines, callRecord, SUMMARY_MAX, subject } from './messages.js';

/**
 * Cordon switched off without a word: calls on the runtime mode parameter
 * and on Cordon's rules, each with who made it. Each returns the report to
 * record, or why there is none.
 */

/** Ledger keys of what the watch records outside any incident. */
export const WATCH_LEDGER = {
  runtimeMode: 'guardrail-runtime-mode',
  rules: 'guardrail-rules',
} as const;

/** What the runtime mode parameter reads now, or why it cannot be read. */
async function readMode(
  ssm: SSMClient,
  name: string,
): Promise<{ value: string } | { unreadable: string }> {
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name }));
    const value = out.Parameter?.Value;
    return value === undefined ? { unreadable: 'it has no value' } : { value };
  } catch (error) {
    if (error instanceof Error && error.name === 'ParameterNotFound') {
      return { unreadable: 'it does not exist (deleted)' };
    }
    const name = error instanceof Error ? error.name : 'error';
    return { unreadable: `reading it failed: ${name}` };
  }
}

/** A call on a parameter: who changed the runtime mode, and what it reads now. */
export async function modeReport(
  event: Extract<WatchedEvent, { kind: 'parameter' }>,
  deps: WatchDeps,
): Promise<Report | string> {
  const parameter = deps.config.runtimeModeParameter;
  if (!event.names.includes(parameter)) return 'the call names no parameter of Cordon';
  const { call } = event;
  const reading = await readMode(deps.ssm, parameter);
  const readAt = deps.now().toISOString();
  const who = callerName(call.caller);
  const refused = call.errorCode !== undefined;
  const now =
    'value' in reading
      ? `it reads ${quoted(reading.value, 64)} (read at ${readAt})`
      : `it cannot be read: ${reading.unreadable} (at ${readAt}); triage then holds every automatic step for approval`;
  return {
    ledgerId: WATCH_LEDGER.runtimeMode,
    eventKey: cloudTrailKey(call),
    entry: {
      step: 'runtime-mode',
      action: 'watch',
      actor: deps.actor,
      outcome: refused ? 'CHANGE_REFUSED' : 'CHANGED',
      summary: boundedText(
        `${call.eventName} on ${parameter} by ${who}${refused ? `, refused (${call.errorCode})` : ''}; ${now}`,
        SUMMARY_MAX,
      ),
      detail: {
        parameter,
        call: callRecord(call),
        ...('value' in reading
          ? { nowReads: boundedText(reading.value, 64) }
          : { unreadable: reading.unreadable }),
        readAt,
      },
    },
    subject: subject(
      refused
        ? `Cordon: refused ${call.eventName} on the runtime mode, by ${who}`
        : `Cordon runtime mode changed: ${call.eventName}, by ${who}`,
    ),
    lines: [
      refused
        ? "Someone tried to change Cordon's runtime mode"
        : "Cordon's runtime mode parameter was changed",
      '',
      'The runtime mode applies to every new incident: auto, approve-all, dry-run or off (off records and notifies, and contains nothing).',
      `Parameter: ${quoted(parameter, 256)}`,
      `Call: ${quoted(call.eventName, 64)}`,
      `Now: ${now}`,
      '',
      ...callLines(call),
    ],
  };
}

/** PutTargets' targets, as far as the notice names them; anything else reads as none. */
const TargetsSchema = z
  .array(z.looseObject({ id: z.string().optional(), arn: z.string().optional() }))
  .catch([]);

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** What a rule call does, in words, and the request fields worth keeping. */
function ruleChange(
  call: ApiCall,
  rule: string,
): { change: string; kept: Record<string, unknown> } {
  const name = quoted(rule, 128);
  switch (call.eventName) {
    case 'DisableRule':
      return { change: `disabled rule ${name}`, kept: {} };
    case 'DeleteRule':
      return { change: `deleted rule ${name}`, kept: {} };
    case 'PutRule': {
      const state = typeof call.request.state === 'string' ? call.request.state : undefined;
      return state === 'DISABLED'
        ? { change: `disabled rule ${name} (PutRule with state DISABLED)`, kept: { state } }
        : {
            change: `redefined rule ${name} (PutRule${state ? `, state ${quoted(state, 32)}` : ''}): its pattern may have changed`,
            kept: state ? { state } : {},
          };
    }
    case 'RemoveTargets': {
      const ids = strings(call.request.ids).slice(0, 10);
      return {
        change: `removed target(s) ${ids.map((i) => quoted(i, 64)).join(', ') || '(none named)'} from rule ${name}`,
        kept: { targetIds: ids.map((i) => boundedText(i, 64)) },
      };
    }
    default: {
      const shown = TargetsSchema.parse(call.request.targets)
        .slice(0, 10)
        .map((t) => ({ id: boundedText(t.id ?? '?', 64), arn: boundedText(t.arn ?? '?', 2048) }));
      return {
        change: `put target(s) ${shown.map((t) => `${quoted(t.id, 64)} -> ${quoted(t.arn, 2048)}`).join(', ') || '(none named)'} on rule ${name}`,
        kept: { targets: shown },
      };
    }
  }
}

/** A call on one of Cordon's rules: who changed it, and what changed. */
export async function ruleReport(
  event: Extract<WatchedEvent, { kind: 'rule' }>,
  deps: WatchDeps,
): Promise<Report | string> {
  const { call, rule } = event;
  const who = callerName(call.caller);
  const refused = call.errorCode !== undefined;
  const { change, kept } = ruleChange(call, rule);
  return {
    ledgerId: WATCH_LEDGER.rules,
    eventKey: cloudTrailKey(call),
    entry: {
      step: 'rules',
      action: 'watch',
      actor: deps.actor,
      outcome: refused ? 'CHANGE_REFUSED' : 'CHANGED',
      summary: boundedText(
        `${refused ? `refused (${call.errorCode}): ` : ''}${change}, by ${who}`,
        SUMMARY_MAX,
      ),
      detail: { rule: boundedText(rule, 128), call: callRecord(call), ...kept },
    },
    subject: subject(
      refused
        ? `Cordon: refused ${call.eventName} on rule ${rule}, by ${who}`
        : `Cordon rule changed: ${call.eventName} ${rule}, by ${who}`,
    ),
    lines: [
      refused
        ? "Someone tried to change one of Cordon's rules"
        : "One of Cordon's rules was changed",
      '',
      "Cordon's rules start its playbooks and watch it: a rule disabled, deleted or redefined, or whose targets were removed or replaced, may start or report nothing from now on.",
      `Change: ${change}`,
      '',
      ...callLines(call),
    ],
  };
}
