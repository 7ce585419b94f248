import type { SeverityLabel } from './finding.js';

/** GuardDuty's bands: Critical 9.0-10.0, High 7.0-8.9, Medium 4.0-6.9, Low 1.0-3.9. */
export function labelForScore(score: number): SeverityLabel {
  if (score >= 9) return 'CRITICAL';
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  if (score >= 1) return 'LOW';
  return 'INFORMATIONAL';
}

const LABEL_SCORES: Record<SeverityLabel, number> = {
  CRITICAL: 9,
  HIGH: 7,
  MEDIUM: 4,
  LOW: 1,
  INFORMATIONAL: 0,
};

/** Security Hub's 0-10 score: `Normalized / 10` when present, else the label's floor. */
export function scoreForAsff(label: SeverityLabel, normalized: number | undefined): number {
  return normalized === undefined ? LABEL_SCORES[label] : normalized / 10;
}

/** ASFF's table from `Severity.Normalized` to a label: 0, 1-39, 40-69, 70-89, 90-100. */
export function labelForNormalized(normalized: number): SeverityLabel {
  if (normalized >= 90) return 'CRITICAL';
  if (normalized >= 70) return 'HIGH';
  if (normalized >= 40) return 'MEDIUM';
  if (normalized >= 1) return 'LOW';
  return 'INFORMATIONAL';
}

/** Labels in rising order, to tell a raised severity from a lowered one. */
export function severityRank(label: SeverityLabel): number {
  return LABEL_SCORES[label];
}
