import { describe, expect, it } from 'vitest';
import type { AssumeRoleRequest } from '../../bench/observe.js';
import { memberAccounts, spokeSessionFigures } from '../../bench/organization.js';
import { spokeRoleArn } from '../../functions/shared/organization.js';
import { SPOKE_CACHE_MAX } from '../../functions/shared/spoke.js';

const A = '210000000001';
const B = '210000000002';
const HUB = '123456789012';

/** An AssumeRole request as a hub function sends it: the incident names the session. */
const spoke = (account: string, fn: 'triage' | 'disable-access-key', incident: string) => ({
  roleArn: spokeRoleArn('aws', account, fn),
  sessionName: incident,
  sourceIdentity: incident,
});

const incident = (n: number) => `inc-${n.toString().padStart(20, '0')}`;

describe('spokeSessionFigures', () => {
  it('counts one session per account, function and incident, and the most per account across incidents', () => {
    const requests: AssumeRoleRequest[] = [
      spoke(A, 'triage', incident(1)),
      spoke(A, 'disable-access-key', incident(1)),
      spoke(A, 'triage', incident(2)),
      spoke(B, 'triage', incident(3)),
      // Not a spoke role: the bench's own setup sessions are left out.
      { roleArn: `arn:aws:iam::${A}:role/bench-setup`, sessionName: 'bench-setup' },
    ];

    const figures = spokeSessionFigures(requests, [A, B]);

    expect(figures).toMatchObject({
      total: 4,
      maxPerAccountAndFunction: 2,
      maxPerAccountFunctionAndIncident: 1,
      reassumedAfterEviction: 0,
      reassumedWhileHeld: 0,
      outsideScope: 0,
      unnamed: 0,
      incidentsPerAccount: { min: 1, max: 2 },
    });
    expect(figures.byFunction).toEqual([
      {
        fn: 'disable-access-key',
        requests: 1,
        sessions: 1,
        maxPerAccount: 1,
        maxPerAccountAndIncident: 1,
      },
      { fn: 'triage', requests: 3, sessions: 3, maxPerAccount: 2, maxPerAccountAndIncident: 1 },
    ]);
  });

  it('flags a session asked for again while a warm function still held it', () => {
    const requests = [
      spoke(A, 'triage', incident(1)),
      spoke(A, 'triage', incident(2)),
      spoke(A, 'triage', incident(1)),
    ];

    const figures = spokeSessionFigures(requests, [A]);

    expect(figures.maxPerAccountFunctionAndIncident).toBe(2);
    expect(figures.reassumedWhileHeld).toBe(1);
    expect(figures.reassumedAfterEviction).toBe(0);
  });

  it('tells a session asked for again after the cache bound of newer sessions from one still held', () => {
    // Arrange: SPOKE_CACHE_MAX newer triage sessions push the first one out; one fewer would not.
    const newer = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => spoke(B, 'triage', incident(from + i)));
    const evicted = [
      spoke(A, 'triage', incident(1)),
      ...newer(100, SPOKE_CACHE_MAX),
      spoke(A, 'triage', incident(1)),
    ];
    const held = [
      spoke(A, 'triage', incident(1)),
      ...newer(100, SPOKE_CACHE_MAX - 1),
      spoke(A, 'triage', incident(1)),
    ];

    // Act
    const afterEviction = spokeSessionFigures(evicted, [A, B]);
    const whileHeld = spokeSessionFigures(held, [A, B]);

    // Assert
    expect([afterEviction.reassumedAfterEviction, afterEviction.reassumedWhileHeld]).toEqual([
      1, 0,
    ]);
    expect([whileHeld.reassumedAfterEviction, whileHeld.reassumedWhileHeld]).toEqual([0, 1]);
  });

  it("counts sessions in accounts outside the scope (the hub's own among them) and sessions not named by their incident", () => {
    const requests = [
      spoke(HUB, 'triage', incident(1)),
      { ...spoke(A, 'triage', incident(2)), sourceIdentity: incident(3) },
      { roleArn: spokeRoleArn('aws', A, 'triage'), sessionName: incident(4) },
    ];

    const figures = spokeSessionFigures(requests, [A]);

    expect(figures.outsideScope).toBe(1);
    expect(figures.unnamed).toBe(2);
  });
});

describe('memberAccounts', () => {
  it('gives as many distinct 12-digit accounts as asked, never the hub', () => {
    const hub = '210000000003';

    const accounts = memberAccounts(50, hub);

    expect(accounts).toHaveLength(50);
    expect(new Set(accounts).size).toBe(50);
    expect(accounts).not.toContain(hub);
    for (const account of accounts) expect(account).toMatch(/^\d{12}$/);
  });
});
