import { z } from '../../shared/z.js';
import { accessKeyIdIn } from './arn.js';
import type { ParsedFindingEvent } from './finding.js';
import { invalidFinding } from './invalid.js';
import { SECURITYHUB_SOURCE, type SecurityHubEvent } from './schemas/asff.js';
import { AsffDetectionSchema } from './schemas/sequence.js';
import { type ClaimedSequence, claimedSequence, describeSequence } from './sequence.js';

const WHAT = 'Security Hub finding';

/** ASFF resource types as GuardDuty's ResourceV2 names them, for the types a sequence may carry. */
const RESOURCE_TYPES: Readonly<Record<string, string>> = {
  AwsEc2Instance: 'EC2_INSTANCE',
  AwsS3Bucket: 'S3_BUCKET',
  AwsIamAccessKey: 'ACCESS_KEY',
  AwsEksCluster: 'EKS_CLUSTER',
  AwsEcsCluster: 'ECS_CLUSTER',
  AwsEcsTask: 'ECS_TASK',
  Container: 'CONTAINER',
};

/** Only `Detection` is read here; the rest of each finding is the ASFF schema's. */
const RawFindingsSchema = z.object({
  detail: z.object({ findings: z.array(z.object({ Detection: z.unknown().optional() })) }),
});

type AsffFinding = SecurityHubEvent['detail']['findings'][number];

/**
 * An event holding a GuardDuty attack sequence, as Security Hub imported it:
 * unhandled, since GuardDuty's own finding starts the attack-sequence
 * playbook (one incident per finding, whichever way it also arrives), and
 * said so with what the validated sequence names. Undefined for any other
 * event.
 */
export function securityHubSequence(
  event: unknown,
  parsed: SecurityHubEvent,
  isGuardDuty: (finding: AsffFinding) => boolean,
): ParsedFindingEvent | undefined {
  const found = securityHubAttackSequence(event, parsed, isGuardDuty);
  if (found === undefined) return undefined;
  const { finding, sequence } = found;
  return {
    status: 'unhandled',
    reason: 'guardduty-through-security-hub',
    source: SECURITYHUB_SOURCE,
    message: `a GuardDuty attack sequence as Security Hub imported it, which Cordon contains through the GuardDuty rule; this one names ${describeSequence(finding.Types[0] ?? finding.GeneratorId, sequence)}`,
  };
}

/**
 * The GuardDuty attack sequence of an ASFF event (`Detection.Sequence`, the
 * finding's `Resources` as its resources), validated as the native form is;
 * undefined when no finding of the event carries one. Only GuardDuty's own
 * findings are read so: a sequence another product imports goes the way of
 * any finding of that product.
 */
export function securityHubAttackSequence(
  event: unknown,
  parsed: SecurityHubEvent,
  isGuardDuty: (finding: AsffFinding) => boolean,
): { readonly finding: AsffFinding; readonly sequence: ClaimedSequence } | undefined {
  const raw = RawFindingsSchema.safeParse(event);
  if (!raw.success) return undefined;
  for (const [index, finding] of parsed.detail.findings.entries()) {
    const detection = raw.data.detail.findings[index]?.Detection;
    if (detection === undefined || !isGuardDuty(finding)) continue;
    const prefix = ['detail', 'findings', index, 'Detection'];
    const checked = AsffDetectionSchema.safeParse(detection);
    if (!checked.success) throw invalidFinding(WHAT, detection, checked.error, prefix);
    const sequence = checked.data?.Sequence;
    if (sequence === undefined) continue;
    const claimed = claimedSequence({
      what: WHAT,
      uid: sequence.Uid ?? finding.Id,
      signals: sequence.Signals?.length ?? 0,
      account: finding.AwsAccountId,
      region: finding.Region ?? parsed.region,
      actors: (sequence.Actors ?? []).map((actor, i) => ({
        namePath: [...prefix, 'Sequence', 'Actors', i, 'User', 'Name'],
        id: actor.Id ?? actor.User?.Uid ?? `actor ${i}`,
        type: actor.User?.Type,
        name: actor.User?.Name,
        uid: actor.User?.Uid,
        credentialUid: actor.User?.CredentialUid,
        accountId: actor.User?.Account?.Uid,
      })),
      resources: finding.Resources.map((resource, r) => {
        const resourceType = Object.hasOwn(RESOURCE_TYPES, resource.Type)
          ? (RESOURCE_TYPES[resource.Type] ?? resource.Type)
          : resource.Type;
        return {
          uidPath: ['detail', 'findings', index, 'Resources', r, 'Id'],
          resourceType,
          uid:
            resourceType === 'ACCESS_KEY'
              ? (accessKeyIdIn(resource.Id) ?? resource.Id)
              : resource.Id,
          region: resource.Region,
        };
      }),
    });
    return { finding, sequence: claimed };
  }
  return undefined;
}
