import type { PlaybookName } from '../../shared/catalog.js';
import { InvalidFindingError } from '../../shared/errors.js';
import type { ParsedFindingEvent } from './finding.js';
import { fromGuardDuty } from './guardduty.js';
import { fromSecurityHubV2 } from './ocsf.js';
import { SECURITYHUB_DETAIL_TYPE, SECURITYHUB_SOURCE } from './schemas/asff.js';
import { GUARDDUTY_DETAIL_TYPE, GUARDDUTY_SOURCE } from './schemas/guardduty.js';
import { SECURITYHUB_V2_DETAIL_TYPE } from './schemas/ocsf.js';
import { fromSecurityHub } from './securityhub.js';

export type { Finding, ParsedFindingEvent, UnhandledReason } from './finding.js';
export { incidentIdOf } from './incident-id.js';

type Parse = typeof fromGuardDuty;

/** Each handled source's detail types, and the parser of each: Security Hub sends ASFF and OCSF. */
const HANDLED: Readonly<Record<string, Readonly<Record<string, Parse>>>> = {
  [GUARDDUTY_SOURCE]: { [GUARDDUTY_DETAIL_TYPE]: fromGuardDuty },
  [SECURITYHUB_SOURCE]: {
    [SECURITYHUB_DETAIL_TYPE]: fromSecurityHub,
    [SECURITYHUB_V2_DETAIL_TYPE]: fromSecurityHubV2,
  },
};

/**
 * Validates an EventBridge event (triage and `cordon rehearse` both call it).
 * With a playbook (triage: the playbook whose rule matched), returns the
 * finding as that playbook sees it, or `unhandled` (`other-playbook`) when
 * the event holds nothing for it: one GuardDuty finding can start two
 * playbooks. Without one (the CLI's up-front check), the resource type
 * chooses the playbook. `unhandled` also covers a well-formed event no
 * playbook acts on. Throws InvalidFindingError, naming the path, when the
 * event is not an EventBridge event or comes from a handled source and
 * lacks or mangles a field Cordon needs.
 */
export function parseFindingEvent(event: unknown, playbook?: PlaybookName): ParsedFindingEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InvalidFindingError('event is not an EventBridge event: expected a JSON object');
  }
  const source: unknown = Reflect.get(event, 'source');
  if (typeof source !== 'string' || source === '' || source.length > 256) {
    throw new InvalidFindingError('event is not an EventBridge event: missing source');
  }
  const handled = Object.hasOwn(HANDLED, source) ? HANDLED[source] : undefined;
  if (handled === undefined) {
    return {
      status: 'unhandled',
      reason: 'unhandled-source',
      source,
      message: `unhandled source ${source}: Cordon acts on ${Object.keys(HANDLED).join(' and ')} findings`,
    };
  }
  const detailType: unknown = Reflect.get(event, 'detail-type');
  if (typeof detailType !== 'string') {
    throw new InvalidFindingError(`event from ${source} is missing detail-type`);
  }
  const parse = Object.hasOwn(handled, detailType) ? handled[detailType] : undefined;
  if (parse === undefined) {
    const types = Object.keys(handled).map((t) => `"${t}"`);
    return {
      status: 'unhandled',
      reason: 'unhandled-detail-type',
      source,
      message: `unhandled detail-type for ${source}: Cordon acts on ${types.join(' and ')} events`,
    };
  }
  return parse(event, playbook);
}
