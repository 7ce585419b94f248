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
