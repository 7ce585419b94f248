import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/**
 * The finding sources as a rehearsal sees them. Triage re-reads every
 * finding it would act on unattended from GuardDuty (GetFindings) or
 * Security Hub (GetFindings); a rehearsal replays an event as if its source
 * had just emitted it, so this stand-in holds the findings of the events
 * being rehearsed and answers those reads. It also takes Security Hub's
 * BatchUpdateFindings (the playbook marking findings NOTIFIED and RESOLVED),
 * recording each call, so a rehearsal never changes a real finding.
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

const StringFilter = z.array(z.object({ Value: z.string() })).optional();
const GetSecurityHubFindings = z.looseObject({
  Filters: z.looseObject({ Id: StringFilter, ProductArn: StringFilter }).optional(),
});
const GetGuardDutyFindings = z.looseObject({ findingIds: z.array(z.string()) });
const BatchUpdate = z.looseObject({
  FindingIdentifiers: z.array(z.object({ Id: z.string(), ProductArn: z.string() })),
});

class FindingSourceStandIn {
  private server: Server | undefined;
  private readonly guardDuty = new Map<string, unknown>();
  private readonly securityHub = new Map<string, unknown>();
  /** Every BatchUpdateFindings call received, in order. */
  readonly updates: unknown[] = [];

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    server.unref();
    this.server = server;
    const { port } = server.address() as AddressInfo;
    process.env.AWS_ENDPOINT_URL_GUARDDUTY = `http://127.0.0.1:${port}`;
    process.env.AWS_ENDPOINT_URL_SECURITYHUB = `http://127.0.0.1:${port}`;
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
    }
  }

  /** Forgets every finding (the source no longer has them). */
  clear(): void {
    this.guardDuty.clear();
    this.securityHub.clear();
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body: unknown = text === '' ? {} : JSON.parse(text);
    const reply = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const path = (req.url ?? '').split('?')[0] ?? '';
    const detector = /^\/detector\/([^/]+)\/findings\/get$/.exec(path);
    if (req.method === 'POST' && detector?.[1] !== undefined) {
      const { findingIds } = GetGuardDutyFindings.parse(body);
      const id = decodeURIComponent(detector[1]);
      const findings = findingIds.flatMap((f) => {
        const held = this.guardDuty.get(`${id}|${f}`);
        return held === undefined ? [] : [held];
      });
      return reply(200, { findings });
    }
    if (req.method === 'POST' && path === '/findings') {
      return reply(200, { Findings: this.securityHubFindings(body) });
    }
    if (req.method === 'PATCH' && path === '/findings/batchupdate') {
      this.updates.push(body);
      const { FindingIdentifiers } = BatchUpdate.parse(body);
      return reply(200, { ProcessedFindings: FindingIdentifiers, UnprocessedFindings: [] });
    }
    return reply(404, {
      message: `the rehearsal finding source does not serve ${req.method} ${path}`,
    });
  }
}

export const findingSource = new FindingSourceStandIn();
