import type { Logger } from '@aws-lambda-powertools/logger';
import type {
  APIGatewayProxyStructuredResultV2,
  LambdaFunctionURLEventWithIAMAuthorizer,
} from 'aws-lambda';
import type { z } from 'zod';
import { CordonError } from '../shared/errors.js';
import { firstIssue } from '../shared/validation.js';
import {
  BreakerResetRequestSchema,
  DecisionRequestSchema,
  ERROR_STATUS,
  type ErrorResponse,
  RollbackRequestBodySchema,
} from './contract.js';
import { type ApprovalService, EndpointError } from './core.js';

/**
 * Routes a function URL request (payload format 2.0) to the approval
 * service. The caller is `requestContext.authorizer.iam.userArn`, which
 * Lambda fills from the verified SigV4 signature.
 */

/** Longest body accepted; a decision is a few hundred bytes. */
const MAX_BODY_BYTES = 16 * 1024;

export type RouteLogger = Pick<Logger, 'info' | 'error'>;

export async function route(
  event: LambdaFunctionURLEventWithIAMAuthorizer,
  service: ApprovalService,
  logger: RouteLogger,
): Promise<APIGatewayProxyStructuredResultV2> {
  const method = event.requestContext.http.method.toUpperCase();
  const path = event.rawPath.replace(/\/+$/, '') || '/';
  // Optional chaining: a request that reached us unsigned has no authorizer.
  const callerArn: string | undefined = event.requestContext.authorizer?.iam?.userArn;
  try {
    const caller = service.authorize(callerArn);
    if (path === '/pending') {
      allow(method, 'GET');
      return json(200, await service.pending());
    }
    const incident = /^\/incidents\/([^/]+)$/.exec(path);
    if (incident?.[1] !== undefined) {
      allow(method, 'GET');
      return json(200, await service.timeline(decodeURIComponent(incident[1])));
    }
    if (path === '/decisions') {
      allow(method, 'POST');
      return json(200, await service.decide(caller, parseBody(event, DecisionRequestSchema)));
    }
    if (path === '/breaker') {
      allow(method, 'GET');
      return json(200, await service.breakerStatus());
    }
    if (path === '/breaker/reset') {
      allow(method, 'POST');
      const { reason } = parseBody(event, BreakerResetRequestSchema);
      return json(200, await service.resetBreaker(caller, reason));
    }
    if (path === '/rollbacks') {
      allow(method, 'POST');
      return json(
        200,
        await service.startRollback(caller, parseBody(event, RollbackRequestBodySchema)),
      );
    }
    throw new EndpointError('not_found', `no route ${method} ${path.slice(0, 100)}`);
  } catch (error) {
    if (error instanceof EndpointError) {
      logger.info('request refused', { path, caller: callerArn, error: error.code });
      return failure(error.code, error.message);
    }
    // AWS trouble (throttling, 5xx) is worth a retry; say so, and nothing more.
    const retryable = error instanceof CordonError && error.retryable;
    logger.error('request failed', { path, caller: callerArn, error });
    return failure(
      'internal',
      retryable
        ? 'AWS was busy or unavailable; nothing was lost: run the same command again'
        : 'the approval service failed; see its logs',
    );
  }
}

function allow(method: string, expected: string): void {
  if (method !== expected) {
    throw new EndpointError('method_not_allowed', `use ${expected}, not ${method}`);
  }
}

function parseBody<T>(event: LambdaFunctionURLEventWithIAMAuthorizer, schema: z.ZodType<T>): T {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new EndpointError('invalid_request', `body larger than ${MAX_BODY_BYTES} bytes`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new EndpointError('invalid_request', 'body is not JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const { path, where, message } = firstIssue(parsed.error);
    throw new EndpointError('invalid_request', `${path.length > 0 ? where : '(body)'}: ${message}`);
  }
  return parsed.data;
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

function failure(code: ErrorResponse['error'], message: string): APIGatewayProxyStructuredResultV2 {
  return json(ERROR_STATUS[code], { error: code, message } satisfies ErrorResponse);
}
