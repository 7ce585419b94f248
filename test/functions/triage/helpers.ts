import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetRoleCommand, GetUserCommand, IAMClient, type Tag } from '@aws-sdk/client-iam';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { documentClient } from '../../../functions/shared/aws.js';
import { Ledger } from '../../../functions/shared/ledger.js';
import type { RuntimeConfig } from '../../../functions/shared/runtime-config.js';
import type { TriageDeps } from '../../../functions/triage/triage.js';

export const ACCOUNT = '123456789012';
export const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/staff/compromised-user`;
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/app/exfiltrated-role`;

export type Fixture =
  | 'guardduty-iam-user'
  | 'guardduty-assumed-role'
  | 'guardduty-root'
  | 'guardduty-sample'
  | 'guardduty-low-severity'
  | 'guardduty-missing-resource'
  | 'securityhub-iam-access-key'
  | 'securityhub-from-guardduty'
  | 'unrelated-event';

export function fixture(name: Fixture): unknown {
  const url = new URL(`../../fixtures/events/${name}.json`, import.meta.url);
  const value: unknown = JSON.parse(readFileSync(url, 'utf8'));
  return value;
}

type Path = ReadonlyArray<string | number>;

/** A deep copy of `event` with the value at `path` replaced (or removed, for `undefined`). */
export function withValue(event: unknown, path: Path, value: unknown): unknown {
  const copy: unknown = structuredClone(event);
  const parentPath = path.slice(0, -1);
  const last = path.at(-1);
  let node: unknown = copy;
  for (const key of parentPath) {
    if (typeof node !== 'object' || node === null) throw new Error(`no object at ${String(key)}`);
    node = Reflect.get(node, key);
  }
  if (typeof node !== 'object' || node === null || last === undefined) {
    throw new Error(`no object at ${path.join('.')}`);
  }
  if (value === undefined) Reflect.deleteProperty(node, last);
  else Reflect.set(node, last, value);
  return copy;
}

export function without(event: unknown, path: Path): unknown {
  return withValue(event, path, undefined);
}

export function valueAt(event: unknown, path: Path): unknown {
  let node: unknown = event;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = Reflect.get(node, key);
  }
  return node;
}

export const ASFF_RESOURCE = ['detail', 'findings', 0, 'Resources', 0] as const;

export function config(overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
  return {
    homeAccount: ACCOUNT,
    allowedRegions: ['us-east-1', 'eu-west-1'],
    severityThreshold: 7,
    securityHubSeverityLabels: ['HIGH', 'CRITICAL'],
    protectedPrincipalPatterns: [`arn:aws:iam::${ACCOUNT}:role/break-glass-*`],
    exemptTag: { key: 'cordon:exempt', value: 'true' },
    modes: { 'iam-credentials': {} },
    ...overrides,
  };
}

export const ACTOR = `arn:aws:iam::${ACCOUNT}:role/cordon/cordon-triage`;

export const iamMock = mockClient(IAMClient);
export const ddbMock = mockClient(DynamoDBDocumentClient);

/**
 * Resets the client mocks and returns fresh deps: IAM answers nothing until a
 * test says what exists, and every ledger write succeeds.
 */
export function setup(configOverrides: Partial<RuntimeConfig> = {}) {
  iamMock.reset();
  ddbMock.reset();
  ddbMock.on(PutCommand).resolves({});
  const deps: TriageDeps = {
    iam: new IAMClient({ region: 'us-east-1' }),
    ledger: new Ledger({
      client: documentClient(new DynamoDBClient({ region: 'us-east-1' })),
      tableName: 'cordon-ledger',
      now: () => new Date('2024-05-14T09:32:00.000Z'),
    }),
    config: config(configOverrides),
    actor: ACTOR,
  };
  return deps;
}

export function userExists(options: { arn?: string; userId?: string; tags?: Tag[] } = {}): void {
  iamMock.on(GetUserCommand, { UserName: 'compromised-user' }).resolves({
    User: {
      Path: '/staff/',
      UserName: 'compromised-user',
      UserId: options.userId ?? 'AIDAEXAMPLEUSERID0001',
      Arn: options.arn ?? USER_ARN,
      CreateDate: new Date('2023-11-02T08:14:55.000Z'),
      Tags: options.tags ?? [{ Key: 'team', Value: 'payments' }],
    },
  });
}

export function roleExists(options: { arn?: string; roleId?: string; tags?: Tag[] } = {}): void {
  iamMock.on(GetRoleCommand, { RoleName: 'exfiltrated-role' }).resolves({
    Role: {
      Path: '/app/',
      RoleName: 'exfiltrated-role',
      RoleId: options.roleId ?? 'AROAEXAMPLEROLEID0001',
      Arn: options.arn ?? ROLE_ARN,
      CreateDate: new Date('2023-11-02T08:14:55.000Z'),
      AssumeRolePolicyDocument: '{}',
      Tags: options.tags ?? [],
    },
  });
}
