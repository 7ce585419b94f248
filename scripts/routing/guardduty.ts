import { z } from 'zod';
import type { PlaybookName } from '../../functions/shared/catalog.js';
import { PLAYBOOK_NAMES } from '../../functions/shared/catalog.js';
import { parseFindingEvent } from '../../functions/triage/parse/index.js';
import { matchesEventPattern } from '../../rehearsal/event-pattern.js';
import { readTemplate } from '../../rehearsal/template.js';
import { PLACEHOLDERS } from '../diagram/document.js';

/**
 * The README's GuardDuty routing table, generated from the code that routes:
 * every GuardDuty finding type (test/fixtures/guardduty-finding-types.json,
 * from GuardDuty's user guide) is put, as GuardDuty emits it, through the
 * synthesized rules' event patterns, then through triage's parser for each
 * playbook whose rule matched. What the table says is what deploys: a test
 * regenerates it and fails when the README differs.
 */

/** GuardDuty's finding types, from its user guide (the file says which pages). */
export const GUARDDUTY_TYPES_PATH = 'test/fixtures/guardduty-finding-types.json';

export const GuardDutyTypesSchema = z.object({
  source: z.string(),
  types: z.array(
    z.looseObject({
      type: z.string().regex(/^[A-Za-z]+:[\w-]+\/\S+$/),
      /** `Variable` where GuardDuty says to read it in each finding (Runtime Monitoring): see `resourceTypes`. */
      resourceType: z.string().min(1).nullable(),
      resourceTypes: z.array(z.string().min(1)).optional(),
      feature: z.string().min(1),
      severity: z.string().min(1).nullable(),
      retired: z.boolean().optional(),
    }),
  ),
});
type ListedType = z.infer<typeof GuardDutyTypesSchema>['types'][number];

/** One finding type with one resource type it comes with. */
export interface GuardDutyType {
  readonly type: string;
  readonly resourceType: string;
  readonly severity: string;
}

/** Each listed type once per resource type it can carry; retired types left out. */
export function findingKinds(listed: readonly ListedType[]): GuardDutyType[] {
  return listed
    .filter((t) => t.retired !== true)
    .flatMap((t) => {
      const resourceTypes =
        t.resourceType === 'Variable'
          ? (t.resourceTypes ?? [])
          : [t.resourceType ?? 'undocumented'];
      return resourceTypes.map((resourceType) => ({
        type: t.type,
        resourceType,
        severity: t.severity ?? 'undocumented',
      }));
    });
}

/** A rule of the synthesized template: its playbook and its event pattern. */
export interface PlaybookRule {
  readonly playbook: PlaybookName;
  readonly pattern: unknown;
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** Where a finding of `type` names its bucket: bucket-level S3 policy findings do, account-level ones do not. */
const namesBucket = (type: string) =>
  type.startsWith('Policy:S3/Bucket') || (!type.startsWith('Policy:S3/') && type.includes(':S3/'));

/**
 * The `resource` GuardDuty gives a finding of this resource type: the parts
 * Cordon reads, with stand-in names. A principal's key for AccessKey and
 * S3Bucket findings (S3 findings name the caller beside the bucket).
 */
function resourceOf({ type, resourceType }: GuardDutyType): Record<string, unknown> {
  const caller = {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    principalId: 'AIDAEXAMPLEUSERID0001',
    userName: 'example-user',
    userType: 'IAMUser',
  };
  const bucket = [
    { name: 'example-bucket', arn: 'arn:aws:s3:::example-bucket', type: 'Destination' },
  ];
  switch (resourceType) {
    case 'AccessKey':
    case 'S3Bucket':
      return {
        resourceType,
        accessKeyDetails: caller,
        ...(namesBucket(type) ? { s3BucketDetails: bucket } : {}),
      };
    case 'Instance':
      return { resourceType, instanceDetails: { instanceId: 'i-0abc123def4567890' } };
    case 'Lambda':
      return {
        resourceType,
        lambdaDetails: {
          functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:example`,
          functionName: 'example',
        },
      };
    default:
      return { resourceType };
  }
}

/** A finding event of `finding`'s type, as GuardDuty sends it to EventBridge, at severity 8. */
export function exampleEvent(finding: GuardDutyType): unknown {
  return {
    version: '0',
    id: '00000000-0000-0000-0000-000000000000',
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: ACCOUNT,
    time: '2026-01-01T00:00:00Z',
    region: REGION,
    resources: [],
    detail: {
      schemaVersion: '2.0',
      accountId: ACCOUNT,
      region: REGION,
      partition: 'aws',
      id: 'example',
      arn: `arn:aws:guardduty:${REGION}:${ACCOUNT}:detector/example/finding/example`,
      type: finding.type,
      severity: 8,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
      title: finding.type,
      description: finding.type,
      resource: resourceOf(finding),
      service: {
        serviceName: 'guardduty',
        detectorId: 'example',
        action: {},
        resourceRole: 'TARGET',
        archived: false,
        count: 1,
        additionalInfo: {},
        ...(finding.resourceType === 'AttackSequence' ? { detection: exampleSequence() } : {}),
      },
    },
  };
}

/** An attack sequence's detection, as GuardDuty's API reference shapes it: one actor, one signal. */
function exampleSequence(): Record<string, unknown> {
  return {
    sequence: {
      uid: 'example',
      description: 'example',
      signals: [{ uid: 'example', type: 'FINDING', name: 'example' }],
      actors: [
        {
          id: 'actor-1',
          user: {
            name: 'example-user',
            uid: 'AIDAEXAMPLEUSERID0001',
            type: 'IAMUser',
            credentialUid: 'AKIAIOSFODNN7EXAMPLE',
          },
        },
      ],
      resources: [],
    },
  };
}

/** The playbooks that start on `finding`, and those whose triage then takes it. */
export interface Route {
  readonly matched: readonly PlaybookName[];
  /** Per matched playbook: undefined when triage takes it, else why not. */
  readonly refused: Readonly<Partial<Record<PlaybookName, string>>>;
}

export function routeOf(finding: GuardDutyType, rules: readonly PlaybookRule[]): Route {
  const event = exampleEvent(finding);
  const matched = PLAYBOOK_NAMES.filter((playbook) =>
    rules.some((rule) => rule.playbook === playbook && matchesEventPattern(rule.pattern, event)),
  );
  const refused: Partial<Record<PlaybookName, string>> = {};
  for (const playbook of matched) {
    try {
      const parsed = parseFindingEvent(event, playbook);
      if (parsed.status === 'unhandled') refused[playbook] = parsed.message;
    } catch (error) {
      refused[playbook] = error instanceof Error ? error.message : String(error);
    }
  }
  return { matched, refused };
}

/** One line of the table: the playbook(s) a type goes to, or none. */
function routeText(route: Route): string {
  if (route.matched.length === 0) return 'no playbook';
  return route.matched
    .map((p) => (route.refused[p] === undefined ? p : `${p}: rule matches, triage refuses`))
    .join(' + ');
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/**
 * The table, one row per resource type and route, in the order of the
 * type list's features; each row lists its finding types.
 */
export function guardDutyRoutingTable(
  types: readonly GuardDutyType[],
  rules: readonly PlaybookRule[],
): string {
  const rows = new Map<string, { resourceType: string; route: string; types: string[] }>();
  for (const finding of types) {
    const route = routeText(routeOf(finding, rules));
    const key = `${finding.resourceType}\u0000${route}`;
    const row = rows.get(key) ?? { resourceType: finding.resourceType, route, types: [] };
    row.types.push(`\`${finding.type}\` (${finding.severity})`);
    rows.set(key, row);
  }
  const lines = [
    '| resource type | playbook | finding types (GuardDuty severity) |',
    '|---|---|---|',
    ...[...rows.values()].map(
      (row) => `| \`${row.resourceType}\` | ${row.route} | ${cell(row.types.join(', '))} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** The README's markers around the generated table. */
export const ROUTING_BEGIN = '<!-- guardduty-routing:begin (npm run diagrams) -->';
export const ROUTING_END = '<!-- guardduty-routing:end -->';

/** `readme` with the text between the markers replaced by `table`. */
export function withRoutingTable(readme: string, table: string): string {
  const begin = readme.indexOf(ROUTING_BEGIN);
  const end = readme.indexOf(ROUTING_END);
  if (begin < 0 || end < begin) {
    throw new Error(`README.md has no ${ROUTING_BEGIN} ... ${ROUTING_END} section`);
  }
  return `${readme.slice(0, begin + ROUTING_BEGIN.length)}\n${table}${readme.slice(end)}`;
}

/** Every rule that starts a playbook, read from the synthesized template. */
export function playbookRules(template: unknown): PlaybookRule[] {
  const model = readTemplate(template, PLACEHOLDERS);
  return model.rules.flatMap((rule) =>
    rule.stateMachineLogicalIds.flatMap((id) => {
      const playbook = z.enum(PLAYBOOK_NAMES).safeParse(model.stateMachines.get(id)?.playbook);
      return playbook.success ? [{ playbook: playbook.data, pattern: rule.eventPattern }] : [];
    }),
  );
}
