import { z } from '../../../shared/z.js';

/**
 * Field schemas shared by the GuardDuty and Security Hub event schemas. Every
 * string is bounded: a finding is attacker-influenced input (findings can be
 * imported), and nothing Cordon reads from one is legitimately longer than
 * these limits (ASFF caps ids at 512 characters, IAM caps ARNs at 2048).
 */

export const MAX_ID = 512;
export const MAX_ARN = 2048;

export function bounded(max: number) {
  return z.string().min(1).max(max);
}

export const AccountIdSchema = z.string().regex(/^\d{12}$/, 'expected a 12-digit account id');

/** Commercial, China, GovCloud and ISO regions: `us-east-1`, `cn-north-1`, `us-gov-west-1`. */
export const RegionSchema = z
  .string()
  .max(32)
  .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'expected an AWS region');

/** Timestamps only feed the incident key and the ledger, so any bounded text will do. */
export const TimestampSchema = bounded(64);

/** The EventBridge envelope fields Cordon reads; every other field passes through. */
export const envelopeShape = {
  source: bounded(256),
  'detail-type': bounded(256),
  account: AccountIdSchema,
} as const;
