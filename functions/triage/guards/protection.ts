import type { RuntimeConfig } from '../../shared/runtime-config.js';
import { protectingPattern } from './patterns.js';

/**
 * The guards on the subject as AWS reports it (after the finding guards):
 * no protected principal or resource is acted on, and none carrying the
 * exempt tag. Each returns the refusal reason, naming the guard, or
 * undefined when the subject passes.
 */

export function protectedGuard(arn: string, config: RuntimeConfig): string | undefined {
  const pattern = protectingPattern(arn, config.protectedPrincipalPatterns);
  return pattern === undefined ? undefined : `protected: ${arn} matches protected ${pattern}`;
}

/** An IAM or EC2 tag: both SDKs type `Key` and `Value` as optional strings. */
export interface ResourceTag {
  readonly Key?: string | undefined;
  readonly Value?: string | undefined;
}

/**
 * Tag keys compare without case (IAM keeps one key per spelling; on EC2 this
 * errs towards protecting more); values exactly.
 */
export function exemptTagGuard(
  arn: string,
  tags: ReadonlyArray<ResourceTag>,
  config: RuntimeConfig,
): string | undefined {
  const { key, value } = config.exemptTag;
  const exempt = tags.some((t) => t.Key?.toLowerCase() === key.toLowerCase() && t.Value === value);
  return exempt ? `exempt: ${arn} is tagged ${key}=${value}` : undefined;
}

/**
 * Both guards on a subject triage has read: its ARN, and its tags when it
 * could read them (unread tags are not a refusal: the decider fails closed
 * on them instead).
 */
export function protectionRefusal(
  arn: string,
  resolution: { readonly status: string; readonly tags?: ReadonlyArray<ResourceTag> },
  config: RuntimeConfig,
): string | undefined {
  return (
    protectedGuard(arn, config) ??
    (resolution.status === 'verified' && resolution.tags !== undefined
      ? exemptTagGuard(arn, resolution.tags, config)
      : undefined)
  );
}
