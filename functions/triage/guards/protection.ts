import {
  exemptReason,
  type ProtectionConfig,
  protectedGuard,
  type ResourceTag,
} from '../../shared/protection.js';

/** What the guards make of a subject triage has read: refused, or needing a responder. */
export interface Protection {
  /** Protected: the incident is refused. */
  readonly refusal?: string;
  /** Exempt-tagged: automatic steps wait for a responder. */
  readonly approval?: string;
}

/**
 * Both guards on a subject: its ARN, and its tags when they could be read
 * (unread tags are neither: the decider fails closed on them instead).
 */
export function protectionOf(
  arn: string,
  resolution: { readonly status: string; readonly tags?: ReadonlyArray<ResourceTag> },
  config: ProtectionConfig,
): Protection {
  const refusal = protectedGuard(arn, config);
  if (refusal !== undefined) return { refusal };
  const approval =
    resolution.status === 'verified' && resolution.tags !== undefined
      ? exemptReason(arn, resolution.tags, config)
      : undefined;
  return approval === undefined ? {} : { approval };
}
