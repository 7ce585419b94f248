import {
  GetFindingsCommand as GetGuardDutyFindings,
  type GuardDutyClient,
  type Finding as GuardDutyFinding,
  ListDetectorsCommand,
} from '@aws-sdk/client-guardduty';
import {
  GetFindingsV2Command,
  GetFindingsCommand as GetSecurityHubFindings,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { isOcsfProduct } from '../../shared/finding-format.js';
import { globToRegExp } from '../../shared/protection.js';
import { boundedText } from '../../shared/text.js';
import { z } from '../../shared/z.js';
import type { Finding } from '../parse/finding.js';

/**
 * Source verification: an event on the bus is a claim anyone with
 * events:PutEvents (or securityhub:BatchImportFindings) can make. Before
 * anything runs unattended, triage re-reads the finding from its source
 * (GuardDuty GetFindings with the detector id; Security Hub GetFindings, or
 * GetFindingsV2 for a finding in OCSF) and
 * checks that the source says the same: its type, its account, and the
 * resource triage is about to act on. Any difference, or no finding, and
 * the automatic steps wait for a responder instead. Security Hub findings
 * from a product not on the allow-list (custom imports, by default), and
 * those whose top-level severity or types claim more than their provider
 * said, never act unattended.
 */

export interface SourceClients {
  /** GuardDuty in the finding's region: a finding lives in its own region's detector. */
  readonly guardDuty: Pick<GuardDutyClient, 'send'>;
  readonly securityHub: Pick<SecurityHubClient, 'send'>;
  /**
   * Organization-wide, the hub's own detector in the finding's region:
   * GuardDuty's administrator reads its members' findings through its own
   * detector, not the member's the event names (HubDetectors).
   * @default the detector the event names
   */
  readonly administratorDetector?: () => Promise<string>;
}

export type SourceCheck =
  | { readonly status: 'verified' }
  | { readonly status: 'unverified'; readonly reason: string };

const unverified = (reason: string): SourceCheck => ({ status: 'unverified', reason });

/** Every string value in a JSON-like tree. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) strings(v, out);
  }
  return out;
}

/** True when the source names `id`: as a value, or as the last part of an ARN or path. */
function names(source: unknown, id: string): boolean {
  return strings(source).some((v) => v === id || v.endsWith(`/${id}`) || v.endsWith(`:${id}`));
}

/**
 * True when the Security Hub product may start automatic containment: its
 * ARN matches an allow-list pattern exactly as written (case included).
 */
export function productAllowed(productArn: string, allowList: readonly string[]): boolean {
  return allowList.some((pattern) => globToRegExp(pattern, { ignoreCase: false }).test(productArn));
}

/**
 * Re-reads the finding from its source and compares what triage relies on:
 * its type, its account, and `identifier`, what triage will act on (the
 * finding's decider says what: the access key, the instance, the secret...;
 * undefined when the event's own resource is not what is acted on).
 */
export async function verifyAtSource(
  finding: Finding,
  identifier: string | undefined,
  clients: SourceClients,
  productAllowList: readonly string[],
): Promise<SourceCheck> {
  if (finding.source === 'securityhub') {
    if (finding.productArn === undefined || !productAllowed(finding.productArn, productAllowList)) {
      return unverified(
        `product ${boundedText(JSON.stringify(finding.productArn ?? null), 200)} is not on the Security Hub product allow-list`,
      );
    }
    // What anyone edited after import is no product's word (parse/provider.ts).
    const edited = finding.securityHub?.edited;
    if (edited !== undefined)
      return unverified(`the finding is not as its product filed it: ${edited}`);
    return isOcsfProduct(finding.productArn)
      ? verifySecurityHubV2(finding, identifier, clients.securityHub)
      : verifySecurityHub(finding, identifier, clients.securityHub);
  }
  return verifyGuardDuty(finding, identifier, clients);
}

async function verifyGuardDuty(
  finding: Finding,
  identifier: string | undefined,
  { guardDuty, administratorDetector }: SourceClients,
): Promise<SourceCheck> {
  let detectorId = finding.detectorId;
  if (administratorDetector !== undefined) {
    try {
      detectorId = await administratorDetector();
    } catch (error) {
      return unverified(
        `the hub's GuardDuty detector in ${finding.region} is unknown (${error instanceof Error ? error.message : errorName(error)})`,
      );
    }
  }
  if (detectorId === undefined) {
    return unverified('the GuardDuty event names no detector, so the finding cannot be re-read');
  }
  let found: GuardDutyFinding | undefined;
  try {
    const out = await guardDuty.send(
      new GetGuardDutyFindings({ DetectorId: detectorId, FindingIds: [finding.findingId] }),
    );
    found = out.Findings?.[0];
  } catch (error) {
    return unverified(`GuardDuty GetFindings failed (${errorName(error)})`);
  }
  if (!found) return unverified(`GuardDuty detector ${detectorId} has no such finding`);
  return compare(finding, identifier, {
    type: found.Type,
    account: found.AccountId,
    ...(found.Severity === undefined ? {} : { severity: found.Severity }),
    resource: found.Resource,
    extra: found.Service?.Action,
  });
}

async function verifySecurityHub(
  finding: Finding,
  identifier: string | undefined,
  securityHub: SourceClients['securityHub'],
): Promise<SourceCheck> {
  let findings: {
    Types?: string[];
    FindingProviderFields?: { Types?: string[] };
    AwsAccountId?: string;
    Resources?: unknown;
  }[];
  try {
    const out = await securityHub.send(
      new GetSecurityHubFindings({
        Filters: {
          Id: [{ Value: finding.findingId, Comparison: 'EQUALS' }],
          ProductArn: [{ Value: finding.productArn ?? '', Comparison: 'EQUALS' }],
        },
        MaxResults: 1,
      }),
    );
    findings = out.Findings ?? [];
  } catch (error) {
    return unverified(`Security Hub GetFindings failed (${errorName(error)})`);
  }
  const [found] = findings;
  if (!found) return unverified('Security Hub has no such finding');
  return compare(finding, identifier, {
    // The provider's types, as the event's were read: the top level is editable.
    types: found.FindingProviderFields?.Types ?? found.Types ?? [],
    account: found.AwsAccountId,
    resource: found.Resources,
  });
}

/**
 * What Cordon reads of an OCSF finding that GetFindingsV2 returns (a JSON
 * document the SDK types as any): read leniently, each field compared as
 * the event's was.
 */
const OcsfSaysSchema = z.looseObject({
  finding_info: z.looseObject({ types: z.array(z.unknown()).optional() }).optional(),
  cloud: z.looseObject({ account: z.looseObject({ uid: z.unknown() }).optional() }).optional(),
  resources: z.unknown(),
});
type OcsfSays = z.infer<typeof OcsfSaysSchema>;

/**
 * The OCSF finding by what identifies it (`finding_info.uid`, the product's
 * `metadata.product.uid`, the account's `cloud.account.uid`), all three
 * EQUALS: a finding another product or account filed under the same uid is
 * not this one.
 */
async function verifySecurityHubV2(
  finding: Finding,
  identifier: string | undefined,
  securityHub: SourceClients['securityHub'],
): Promise<SourceCheck> {
  const equals = (
    FieldName: 'finding_info.uid' | 'metadata.product.uid' | 'cloud.account.uid',
    Value: string,
  ) => ({
    FieldName,
    Filter: { Value, Comparison: 'EQUALS' as const },
  });
  let found: OcsfSays | undefined;
  try {
    const out = await securityHub.send(
      new GetFindingsV2Command({
        Filters: {
          CompositeFilters: [
            {
              Operator: 'AND',
              StringFilters: [
                equals('finding_info.uid', finding.findingId),
                equals('metadata.product.uid', finding.productArn ?? ''),
                equals('cloud.account.uid', finding.account),
              ],
            },
          ],
          CompositeOperator: 'AND',
        },
        MaxResults: 1,
      }),
    );
    const [first] = out.Findings ?? [];
    if (first === undefined) return unverified('Security Hub has no such finding');
    found = OcsfSaysSchema.safeParse(first).data;
  } catch (error) {
    return unverified(`Security Hub GetFindingsV2 failed (${errorName(error)})`);
  }
  if (!found) return unverified('Security Hub returned a finding Cordon cannot read');
  const types = found.finding_info?.types ?? [];
  const account = found.cloud?.account?.uid;
  return compare(finding, identifier, {
    types: types.filter((t): t is string => typeof t === 'string'),
    account: typeof account === 'string' ? account : undefined,
    resource: found.resources,
  });
}

interface SourceSays {
  readonly type?: string | undefined;
  readonly types?: readonly string[];
  readonly account?: string | undefined;
  /**
   * GuardDuty's severity (0-10): an event claiming more than its source
   * says (a real low finding re-sent as high, straight to triage) is not
   * the source's finding.
   */
  readonly severity?: number;
  readonly resource?: unknown;
  /** Where a GuardDuty finding names a secret its API call touched. */
  readonly extra?: unknown;
}

function compare(
  finding: Finding,
  identifier: string | undefined,
  source: SourceSays,
): SourceCheck {
  const differences: string[] = [];
  const typeMatches =
    source.types !== undefined
      ? source.types.includes(finding.findingType)
      : source.type === finding.findingType;
  if (!typeMatches) {
    differences.push(
      `type ${boundedText(JSON.stringify(source.type ?? source.types ?? null), 200)}`,
    );
  }
  if (source.account !== finding.account) {
    differences.push(`account ${JSON.stringify(source.account ?? null)}`);
  }
  if (source.severity !== undefined && source.severity < finding.severity) {
    differences.push(`severity ${source.severity}, below the event's ${finding.severity}`);
  }
  if (identifier !== undefined && !names([source.resource, source.extra], identifier)) {
    differences.push(`no resource ${boundedText(JSON.stringify(identifier), 200)}`);
  }
  return differences.length === 0
    ? { status: 'verified' }
    : unverified(`the source's finding differs from the event: ${differences.join(', ')}`);
}

/**
 * The hub's own GuardDuty detector in each region (ListDetectors: an
 * account has at most one per region), asked once per region by a warm
 * triage. A region without one, or an answer that cannot be read, is an
 * error: the finding is then not verified.
 */
export class HubDetectors {
  private readonly detectors = new Map<string, Promise<string>>();

  constructor(private readonly guardDutyIn: (region: string) => Pick<GuardDutyClient, 'send'>) {}

  of(region: string): Promise<string> {
    const held = this.detectors.get(region);
    if (held !== undefined) return held;
    const asked = this.ask(region);
    this.detectors.set(region, asked);
    // A failure is not kept: the next finding asks again.
    asked.catch(() => this.detectors.delete(region));
    return asked;
  }

  private async ask(region: string): Promise<string> {
    const out = await this.guardDutyIn(region).send(new ListDetectorsCommand({}));
    const [detector, ...others] = out.DetectorIds ?? [];
    if (detector === undefined || others.length > 0) {
      throw new Error(
        `ListDetectors in ${region} returned ${out.DetectorIds?.length ?? 0} detectors, not one`,
      );
    }
    return detector;
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'error';
}
