import { describe, expect, it } from 'vitest';
import { ENV } from '../../functions/shared/env-names.js';
import { FunctionHost } from '../../rehearsal/functions.js';
import type { TemplateFunction } from '../../rehearsal/template.js';

/** The rollback-plan function as a template gives it: building its handler calls nothing. */
const rollbackPlan = (environment: Record<string, string>): TemplateFunction => ({
  logicalId: 'RollbackPlanFunction',
  action: 'rollback-plan',
  arn: 'arn:aws:lambda:us-east-1:123456789012:function:rollback-plan',
  environment,
});

const VALID = {
  [ENV.action]: 'rollback-plan',
  [ENV.actor]: 'arn:aws:iam::123456789012:role/cordon/rollback-plan',
  [ENV.ledgerTable]: 'cordon-ledger',
  [ENV.ledgerKey]: 'alias/cordon-ledger',
};

describe('FunctionHost', () => {
  it('builds a function once when its first invocations start together: one warm instance, shared', async () => {
    // Arrange
    const host = new FunctionHost();
    const fn = rollbackPlan(VALID);

    // Act: eight invocations arrive before the first build has finished.
    const handlers = await Promise.all(Array.from({ length: 8 }, () => host.handler(fn)));

    // Assert
    expect(new Set(handlers).size).toBe(1);
    expect(await host.handler(fn)).toBe(handlers[0]);
  });

  it('fails a build on a bad environment, and builds again on the next invocation', async () => {
    // Arrange: the first build reads an environment naming another function.
    const environment: Record<string, string> = { ...VALID, [ENV.action]: 'notify' };
    const host = new FunctionHost();
    const fn = rollbackPlan(environment);

    // Act / Assert
    await expect(host.handler(fn)).rejects.toThrow(`${ENV.action} must be rollback-plan`);
    environment[ENV.action] = 'rollback-plan';
    await expect(host.handler(fn)).resolves.toBeTypeOf('function');
  });
});
