import { z } from 'zod';
import { type StandInReply, type StandInRequest, startStandIn } from './stand-in.js';

/**
 * The finding sources as a rehearsal sees them. Triage re-reads every
 * finding it would act on unattended from GuardDuty (GetFindings) or
 * Security Hub (GetFindings, or GetFindingsV2 for an OCSF finding); a
 * rehearsal replays an event as if its source had just emitted it, so this
 * stand-in holds the findings of the events being rehearsed and answers
 * those reads. It also takes Security Hub's BatchUpdateFindings and
 * BatchUpdateFindingsV2 (the playbook marking findings NOTIFIED and
 * RESOLVED), recording each call, so a rehearsal never changes a real
 * finding. No emulator serves the V2 APIs (moto has neither), so this is
 * where a rehearsal of an OCSF finding gets them.
 *
 * One per process, found through AWS_ENDPOINT_URL_GUARDDUTY and
 * AWS_ENDPOINT_URL_SECURITYHUB (the SDK reads them at each request).
 */

const GuardDutyEvent = z.looseObject({
  source: z.literal('aws.guardduty'),
  detail: z.looseObject({
    id: z.string(),
    service: z.looseObject({ detectorId: z.string().optional() }).optional(),
  }),
});
const SecurityHubEvent = z.looseObject({
  source: z.literal('aws.securityhub'),
  detail: z.looseObject({
    findings: z.array(z.looseObject({ Id: z.string(), ProductArn: z.string() })),
  }),
});

const SecurityHubV2Event = z.looseObject({
  source: z.literal('aws.securityhub'),
  'detail-type': z.literal('Findings Imported V2'),
  detail: z.looseObject({ findings: z.array(z.looseObject({})) }),
});
/** The three fields that identify an OCSF finding (BatchUpdateFindingsV2's `FindingIdentifiers`). */
const OcsfIdentity = z.looseObject({
  finding_info: z.looseObject({ uid: z.string() }),
  metadata: z.looseObject({ product: z.looseObject({ uid: z.string() }) }),
  cloud: z.looseObject({ account: z.looseObject({ uid: z.string() }) }),
});

const StringFilter = z.array(z.object({ Value: z.string() })).optional();
/** GetFindingsV2's string filters, each an EQUALS on one field (what triage sends). */
const GetSecurityHubFindingsV2 = z.looseObject({
  Filters: z
    .looseObject({
      CompositeFilters: z
        .array(
          z.looseObject({
            StringFilters: z
              .array(
                z.object({
                  FieldName: z.string(),
                  Filter: z.object({ Value: z.string(), Comparison: z.literal('EQUALS') }),
                }),
              )
              .optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});
const BatchUpdateV2 = z.looseObject({
  FindingIdentifiers: z.array(
    z.object({
      CloudAccountUid: z.string(),
      FindingInfoUid: z.string(),
      MetadataProductUid: z.string(),
    }),
  ),
});
const GetSecurityHubFindings = z.looseObject({
  Filters: z.looseObject({ Id: StringFilter, ProductArn: StringFilter }).optional(),
});
const GetGuardDutyFindings = z.looseObject({ findingIds: z.array(z.string()) });
const BatchUpdate = z.looseObject({
  FindingIdentifiers: z.array(z.object({ Id: z.string(), ProductArn: z.string() })),
});

/**
 * The rehearsed account's own detector (ListDetectors): as GuardDuty's
 * administrator it reads its members' findings, whichever detector found them.
 */
export const ADMINISTRATOR_DETECTOR = 'c0de0000000000000000000000000001';

class FindingSourceStandIn {
  private started: Promise<void> | undefined;
  private readonly guardDuty = new Map<string, unknown>();
  private readonly securityHub = new Map<string, unknown>();
  private readonly securityHubV2: unknown[] = [];
  /** Every BatchUpdateFindings and BatchUpdateFindingsV2 call received, in order. */
  readonly updates: unknown[] = [];

  start(): Promise<void> {
    this.started ??= startStandIn((request) => this.handle(request), 'application/json').then(
      (url) => {
        process.env.AWS_ENDPOINT_URL_GUARDDUTY = url;
        process.env.AWS_ENDPOINT_URL_SECURITYHUB = url;
      },
    );
    return this.started;
  }

  /** Holds the event's findings at their source, as the source would after emitting it. */
  publish(event: unknown): void {
    const gd = GuardDutyEvent.safeParse(event);
    if (gd.success) {
      const detector = gd.data.detail.service?.detectorId ?? '';
      this.guardDuty.set(`${detector}|${gd.data.detail.id}`, gd.data.detail);
      return;
    }
    const sh = SecurityHubEvent.safeParse(event);
    if (sh.success) {
      for (const f of sh.data.detail.findings) this.securityHub.set(`${f.ProductArn}|${f.Id}`, f);
      return;
    }
    const v2 = SecurityHubV2Event.safeParse(event);
    if (v2.success) this.securityHubV2.push(...v2.data.detail.findings);
  }

  /** Forgets every finding (the source no longer has them). */
  clear(): void {
    this.guardDuty.clear();
    this.securityHub.clear();
    this.securityHubV2.splice(0);
  }

  /** Security Hub GetFindings over the held findings (Id and ProductArn filters). */
  securityHubFindings(input: unknown): unknown[] {
    const filters = GetSecurityHubFindings.parse(input ?? {}).Filters ?? {};
    const ids = filters.Id?.map((f) => f.Value);
    const products = filters.ProductArn?.map((f) => f.Value);
    return [...this.securityHub.values()].filter((raw) => {
      const f = z.object({ Id: z.string(), ProductArn: z.string() }).parse(raw);
      return (!ids || ids.includes(f.Id)) && (!products || products.includes(f.ProductArn));
    });
  }

  /** Security Hub GetFindingsV2 over the held OCSF findings: every EQUALS filter must hold. */
  securityHubFindingsV2(input: unknown): unknown[] {
    const composite = GetSecurityHubFindingsV2.parse(input ?? {}).Filters?.CompositeFilters ?? [];
    const filters = composite.flatMap((c) => c.StringFilters ?? []);
    return this.securityHubV2.filter((raw) => {
      const f = OcsfIdentity.safeParse(raw);
      if (!f.success) return false;
      const fields: Record<string, string> = {
        'finding_info.uid': f.data.finding_info.uid,
        'metadata.product.uid': f.data.metadata.product.uid,
        'cloud.account.uid': f.data.cloud.account.uid,
      };
      return filters.every((x) => fields[x.FieldName] === x.Filter.Value);
    });
  }

  private handle({ method, path, body }: StandInRequest): StandInReply {
    const reply = (status: number, value: unknown) => ({ status, body: value });
    if (method === 'GET' && path === '/detector') {
      return reply(200, { detectorIds: [ADMINISTRATOR_DETECTOR] });
    }
    const detector = /^\/detector\/([^/]+)\/findings\/get$/.exec(path);
    if (method === 'POST' && detector?.[1] !== undefined) {
      const { findingIds } = GetGuardDutyFindings.parse(body);
      const id = decodeURIComponent(detector[1]);
      // The administrator's detector reads every held finding, its members' too.
      const findings = findingIds.flatMap((f) =>
        [...this.guardDuty]
          .filter(
            ([key]) =>
              key.endsWith(`|${f}`) && (id === ADMINISTRATOR_DETECTOR || key === `${id}|${f}`),
          )
          .map(([, held]) => held),
      );
      return reply(200, { findings });
    }
    if (method === 'POST' && path === '/findings') {
      return reply(200, { Findings: this.securityHubFindings(body) });
    }
    if (method === 'POST' && path === '/findingsv2') {
      return reply(200, { Findings: this.securityHubFindingsV2(body) });
    }
    if (method === 'PATCH' && path === '/findingsv2/batchupdatev2') {
      this.updates.push(body);
      const { FindingIdentifiers } = BatchUpdateV2.parse(body);
      return reply(200, {
        ProcessedFindings: FindingIdentifiers.map((FindingIdentifier) => ({ FindingIdentifier })),
        UnprocessedFindings: [],
      });
    }
    if (method === 'PATCH' && path === '/findings/batchupdate') {
      this.updates.push(body);
      const { FindingIdentifiers } = BatchUpdate.parse(body);
      return reply(200, { ProcessedFindings: FindingIdentifiers, UnprocessedFindings: [] });
    }
    return reply(404, {
      message: `the rehearsal finding source does not serve ${method} ${path}`,
    });
  }
}

export const findingSource = new FindingSourceStandIn();
