import type { PlaybookName } from '../../shared/catalog.js';
import { InvalidFindingError } from '../../shared/errors.js';
import type { ParsedFindingEvent } from './finding.js';
import { fromGuardDuty } from './guardduty.js';
import { SECURITYHUB_DETAIL_TYPE, SECURITYHUB_SOURCE } from './schemas/asff.js';
import { GUARDDUTY_DETAIL_TYPE, GUARDDUTY_SOURCE } from './schemas/guardduty.js';
import { fromSecurityHub } from './securityhub.js';

export type { Finding, ParsedFindingEvent, UnhandledReason } from './finding.js';
export { incidentIdOf } from './incident-id.js';

const HANDLED: Readonly<Record<string, { detailType: string; parse: typeof fromGuardDuty }>> = {
  [GUARDDUTY_SOURCE]: { detailType: GUARDDUTY_DETAIL_TYPE, parse: fromGuardDuty },
  [SECURITYHUB_SOURCE]: { detailType: SECURITYHUB_DETAIL_TYPE, parse: fromSecurityHub },
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
  if (detailType !== handled.detailType) {
    return {
      status: 'unhandled',
      reason: 'unhandled-detail-type',
      source,
      message: `unhandled detail-type for ${source}: Cordon acts on "${handled.detailType}" events`,
    };
  }
  return handled.parse(event, playbook);
}
