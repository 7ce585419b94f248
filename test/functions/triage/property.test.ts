import 'aws-sdk-client-mock-vitest/extend';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidFindingError } from '../../../functions/shared/errors.js';
import { TriageResultSchema } from '../../../functions/shared/incident.js';
import {
  bucketTagged,
  ddbMock,
  type Fixture,
  fixture,
  functionExists,
  functionRoleExists,
  instanceExists,
  instanceRoleExists,
  profileSharedBy,
  roleExists,
  secretExists,
  setup,
  userExists,
  withValue,
} from './helpers.js';
import { runTriage } from './run.js';

const FINDINGS: Fixture[] = [
  'guardduty-iam-user',
  'guardduty-assumed-role',
  'guardduty-root',
  'securityhub-iam-access-key',
  'guardduty-ec2-instance',
  'guardduty-ec2-target',
  'securityhub-ec2-instance',
  'guardduty-secret-access',
  'securityhub-secret',
  'guardduty-lambda',
  'securityhub-lambda',
  'guardduty-s3-public',
  'securityhub-s3-public',
];

type Path = Array<string | number>;

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [];
  const entries: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

/** Triage either decides (with a valid result) or throws InvalidFindingError having claimed nothing. */
async function triageIsSafe(event: unknown): Promise<void> {
  const deps = setup();
  userExists();
  roleExists();
  instanceExists();
  instanceRoleExists();
  profileSharedBy([['i-0aaaaaaaaaaaaaaa1']]);
  secretExists();
  functionExists();
  functionRoleExists();
  bucketTagged([]);
  try {
    const result = await runTriage(event, deps);
    expect(TriageResultSchema.parse(result)).toEqual(result);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidFindingError);
    expect(ddbMock).not.toHaveReceivedAnyCommand();
  }
}

describe('triage on hostile input', () => {
  it('never throws anything but InvalidFindingError for arbitrary JSON, and claims nothing then', async () => {
    const envelope = fc.record({
      source: fc.constantFrom('aws.guardduty', 'aws.securityhub', 'aws.ec2'),
      'detail-type': fc.constantFrom('GuardDuty Finding', 'Security Hub Findings - Imported'),
      account: fc.constantFrom('123456789012', '1'),
      detail: fc.jsonValue(),
    });

    await fc.assert(fc.asyncProperty(fc.oneof(fc.jsonValue(), envelope), triageIsSafe), {
      numRuns: 150,
    });
  });

  it('decides validly or refuses as invalid when any field of a real finding is replaced or removed', async () => {
    const mutation = fc.constantFrom(...FINDINGS).chain((name) => {
      const event = fixture(name);
      return fc.record({
        event: fc.constant(event),
        path: fc.constantFrom(...pathsOf(event)),
        value: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
      });
    });

    await fc.assert(
      fc.asyncProperty(mutation, ({ event, path, value }) =>
        triageIsSafe(withValue(event, path, value)),
      ),
      { numRuns: 200 },
    );
  });
});
