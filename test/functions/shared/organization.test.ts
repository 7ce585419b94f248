/**
 * The organization-wide contract between the hub's functions and the
 * member accounts' spoke roles (functions/shared/organization.ts): the
 * values infra builds the spoke roles' trust from are the ones the hub's
 * AssumeRole calls will send, within what STS accepts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INCIDENT_ID, incidentIdFrom } from '../../../functions/shared/incident-id.js';
import {
  deploymentOf,
  externalIdFor,
  SOURCE_IDENTITY_PATTERN,
  SPOKE_MAX_SESSION_SECONDS,
  SPOKE_SESSION_SECONDS,
  sourceIdentityFor,
  spokeRoleArn,
} from '../../../functions/shared/organization.js';

/** STS: an external id is 2 to 1224 of these characters. */
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
/** STS: a source identity is 2 to 64 of these characters. */
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;

const likeIam = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\?/g, '.')
      .replace(/\*/g, '.*')}$`,
  );

describe('spoke roles', () => {
  it("names a function's spoke role after the function, under /cordon/, in the given account", () => {
    expect(spokeRoleArn('aws', '222222222222', 'disable-access-key')).toBe(
      'arn:aws:iam::222222222222:role/cordon/disable-access-key',
    );
    expect(spokeRoleArn('aws-cn', '333333333333', 'rollback-lock-secret')).toBe(
      'arn:aws-cn:iam::333333333333:role/cordon/rollback-lock-secret',
    );
  });

  it('asks for a session no longer than the roles allow, and no shorter than STS allows', () => {
    expect(SPOKE_SESSION_SECONDS).toBe(900);
    expect(SPOKE_SESSION_SECONDS).toBeLessThanOrEqual(SPOKE_MAX_SESSION_SECONDS);
  });
});

describe('external ids', () => {
  const deployment = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

  it('differ per account and per hub deployment, within what STS accepts', () => {
    const one = externalIdFor(deployment, '222222222222');

    expect(one).toBe(`cordon-${deployment}-222222222222`);
    expect(one).toMatch(EXTERNAL_ID);
    expect(externalIdFor(deployment, '333333333333')).not.toBe(one);
    expect(externalIdFor('ffffffff-ffff-4fff-8fff-ffffffffffff', '222222222222')).not.toBe(one);
  });

  it("reads the deployment from the hub stack's id, and refuses anything else", () => {
    expect(
      deploymentOf(`arn:aws:cloudformation:eu-west-1:111111111111:stack/Cordon/${deployment}`),
    ).toBe(deployment);
    expect(() => deploymentOf('Cordon')).toThrow(/not a CloudFormation stack id/);
    expect(() => deploymentOf('arn:aws:cloudformation:eu-west-1:1:stack/Cordon/')).toThrow();
  });
});

describe('source identity', () => {
  it("is the incident id, which the trust policies' pattern matches and STS accepts", () => {
    fc.assert(
      fc.property(fc.string(), (identity) => {
        const incident = incidentIdFrom(identity);

        expect(sourceIdentityFor(incident)).toBe(incident);
        expect(incident).toMatch(likeIam(SOURCE_IDENTITY_PATTERN));
        expect(incident).toMatch(SOURCE_IDENTITY);
      }),
    );
  });

  it('refuses anything that is not an incident id, fail closed', () => {
    for (const value of [
      '',
      'alice',
      'inc-123',
      `${incidentIdFrom('x')}0`,
      'INC-0123456789abcdef0123',
    ]) {
      expect(() => sourceIdentityFor(value), value).toThrow(/not an incident id/);
    }
  });

  it("lets the trust policies' pattern through only values of an incident id's length", () => {
    const pattern = likeIam(SOURCE_IDENTITY_PATTERN);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (rest) => {
        const value = `inc-${rest}`;
        expect(pattern.test(value)).toBe(rest.length === 20);
      }),
    );
    expect(INCIDENT_ID.source).toContain('{20}');
  });
});
