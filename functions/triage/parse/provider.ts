import { InvalidFindingError } from '../../shared/errors.js';
import type { SeverityLabel } from './finding.js';
import { formatPath } from './invalid.js';
import type { AsffFinding } from './schemas/asff.js';
import { labelForNormalized, scoreForAsff, severityRank } from './severity.js';

/**
 * What a Security Hub finding's product said, as opposed to what anyone
 * edited since. `BatchUpdateFindings` lets any caller with that permission
 * (an analyst, an insider, the contained principal with broad rights)
 * change a finding's top-level `Severity` and `Types`; only the product's
 * own `BatchImportFindings` sets `FindingProviderFields`. So Cordon matches,
 * triages and verifies on the provider's values, and a finding whose
 * top-level fields claim more than its provider's never acts unattended.
 */
export interface ProviderClaim {
  readonly severityLabel: SeverityLabel;
  readonly severity: number;
  readonly types: readonly string[];
  /**
   * Why the top-level fields are not the provider's word (raised severity,
   * added types, no provider fields at all): set, the finding's automatic
   * steps wait for a responder.
   */
  readonly edited?: string;
}

export function providerClaim(finding: AsffFinding, at: ReadonlyArray<PropertyKey>): ProviderClaim {
  const top = topLevelLabel(finding, at);
  const provider = finding.FindingProviderFields;
  if (provider === undefined) {
    return {
      severityLabel: top,
      severity: scoreForAsff(top, finding.Severity.Normalized),
      types: finding.Types,
      edited:
        'the finding has no FindingProviderFields, so its severity and types cannot be told from edits',
    };
  }
  const label = provider.Severity?.Label ?? top;
  const types = provider.Types ?? finding.Types;
  const added = finding.Types.filter((t) => !types.includes(t));
  // A value the provider left out is read from the top level: as editable as no provider fields.
  const missing = [
    provider.Severity?.Label === undefined ? 'severity label' : undefined,
    provider.Types === undefined ? 'types' : undefined,
  ].filter((m): m is string => m !== undefined);
  const edits = [
    severityRank(top) > severityRank(label)
      ? `its severity was raised from the provider's ${label} to ${top}`
      : undefined,
    added.length > 0 ? `its types were edited (${added.slice(0, 3).join(', ')} added)` : undefined,
  ].filter((e): e is string => e !== undefined);
  const edited = [
    ...(missing.length === 0 ? [] : [`the provider fields give no ${missing.join(' and ')}`]),
    ...(edits.length === 0 ? [] : [`${edits.join('; ')} after import`]),
  ];
  return {
    severityLabel: label,
    // Normalized is top-level, so editable: it refines the score only when the labels agree.
    severity: scoreForAsff(label, label === top ? finding.Severity.Normalized : undefined),
    types,
    ...(edited.length === 0 ? {} : { edited: edited.join('; ') }),
  };
}

/** The top-level label, derived from `Normalized` by ASFF's table when the finding gives only that. */
function topLevelLabel(finding: AsffFinding, at: ReadonlyArray<PropertyKey>): SeverityLabel {
  const { Label, Normalized } = finding.Severity;
  if (Label !== undefined) return Label;
  if (Normalized !== undefined) return labelForNormalized(Normalized);
  throw new InvalidFindingError(
    `Security Hub finding is missing ${formatPath([...at, 'Severity', 'Label'])} (and Normalized, to derive it from)`,
  );
}

/** Deprecated `WorkflowState` values as the `Workflow.Status` that replaced them. */
const WORKFLOW_STATES: Readonly<Record<string, string>> = {
  NEW: 'NEW',
  ASSIGNED: 'NOTIFIED',
  IN_PROGRESS: 'NOTIFIED',
  DEFERRED: 'SUPPRESSED',
  RESOLVED: 'RESOLVED',
};

/** `Workflow.Status`, else the deprecated `WorkflowState` mapped, else NEW (what import sets). */
export function workflowStatusOf(finding: AsffFinding): string {
  if (finding.Workflow !== undefined) return finding.Workflow.Status;
  const state = finding.WorkflowState;
  if (state === undefined) return 'NEW';
  return Object.hasOwn(WORKFLOW_STATES, state) ? (WORKFLOW_STATES[state] ?? state) : state;
}
