import { describe, expect, it } from 'vitest';
import { createLogger, LambdaLogger } from '../../../functions/shared/observability.js';

const CONTEXT = {
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:cordon-notify',
  memoryLimitInMB: '256',
  functionName: 'cordon-notify',
  awsRequestId: 'req-1',
};

function capture(level: 'INFO' | 'WARN' = 'INFO') {
  const lines: Record<string, unknown>[] = [];
  const logger = new LambdaLogger({ service: 'cordon', action: 'notify' }, level, (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { logger, lines };
}

describe('LambdaLogger', () => {
  it('writes one JSON line with the level, the function, the invocation and the keys', () => {
    const { logger, lines } = capture();
    logger.addContext(CONTEXT);
    logger.appendKeys({ incidentId: 'inc-1' });
    logger.info('contained', { step: 'disableAccessKey' });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'contained',
        service: 'cordon',
        action: 'notify',
        cold_start: true,
        function_name: 'cordon-notify',
        function_request_id: 'req-1',
        function_memory_size: 256,
        incidentId: 'inc-1',
        step: 'disableAccessKey',
      }),
    ]);
  });

  it('drops the keys of the invocation before and is no longer cold', () => {
    const { logger, lines } = capture();
    logger.addContext(CONTEXT);
    logger.appendKeys({ incidentId: 'inc-1' });
    logger.addContext({ ...CONTEXT, awsRequestId: 'req-2' });
    logger.info('next');
    expect(lines[0]).not.toHaveProperty('incidentId');
    expect(lines[0]).toMatchObject({ cold_start: false, function_request_id: 'req-2' });
  });

  it('writes nothing below its level', () => {
    const { logger, lines } = capture('WARN');
    logger.info('quiet');
    logger.debug('quieter');
    logger.warn('loud');
    expect(lines.map((l) => l.message)).toEqual(['loud']);
  });

  it('writes an error as its name, message and stack, not as {}', () => {
    const { logger, lines } = capture();
    logger.error('request failed', { error: new TypeError('boom') });
    expect(lines[0]?.error).toMatchObject({ name: 'TypeError', message: 'boom' });
    expect(lines[0]?.error).toHaveProperty('stack');
  });

  it('takes its level from the environment it is given', () => {
    const writes: string[] = [];
    const logger = createLogger('notify', { POWERTOOLS_LOG_LEVEL: 'error' });
    const original = process.stdout.write;
    process.stdout.write = ((line: string) => writes.push(line) > 0) as typeof process.stdout.write;
    try {
      logger.warn('hidden');
      logger.error('shown');
    } finally {
      process.stdout.write = original;
    }
    expect(writes.map((w) => JSON.parse(w).message)).toEqual(['shown']);
  });
});
