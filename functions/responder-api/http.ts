import { SFNClient } from '@aws-sdk/client-sfn';
import type {
  APIGatewayProxyStructuredResultV2,
  Context,
  LambdaFunctionURLEventWithIAMAuthorizer,
} from 'aws-lambda';
import { ApprovalPolicySchema } from '../shared/approval-record.js';
import { clientOptions } from '../shared/aws.js';
import { boot } from '../shared/boot.js';
import { CircuitBreaker } from '../shared/breaker.js';
import { type Environment, requireEnv, requireJsonEnv } from '../shared/env.js';
import { ENV } from '../shared/env-names.js';
import { CordonError } from '../shared/errors.js';
import type { Logger } from '../shared/observability.js';
import { firstIssue } from '../shared/validation.js';
import { z } from '../shared/z.js';
import { type ApiRequest, authorize, EndpointError, type ResponderDeps } from './api.js';
import { kmsApprovalSigner } from './approval-signer.js';
import { breakerStatus, resetBreaker } from './breaker.js';
import { CALLER_PROOF_HEADER, type StsTransport, sendToSts, stsEndpoint } from './caller-proof.js';
import {
  BreakerResetRequestSchema,
  type BreakerStatus,
  type DecisionRequest,
  DecisionRequestSchema,
  type DecisionResponse,
  type DismissRequest,
  DismissRequestSchema,
  type DismissResponse,
  ERROR_STATUS,
  type ErrorResponse,
  type PendingResponse,
  type RollbackRequestBody,
  RollbackRequestBodySchema,
  type RollbackResponse,
} from './contract.js';
import { decide } from './decisions.js';
import { dismiss } from './dismissals.js';
import { proofIdentifier } from './identify.js';
import { pending, type Timeline, timeline } from './queries.js';
import { ProofReplayGuard } from './replay.js';
import { startRollback } from './rollbacks.js';
import { ApprovalStore } from './store.js';
import { kmsTokenOpener } from './token-opener.js';

/**
 * The responder API over HTTP: routes a function URL request (payload
 * format 2.0) to its feature. The caller is whom its caller proof proves
 * (identify.ts), never `requestContext.authorizer`: anyone allowed
 * lambda:InvokeFunction can invoke the function directly with an event
 * naming anyone.
 */

/** Every feature of the API, bound to its dependencies: what the router calls. */
export interface ResponderApi {
  identify(request: ApiRequest): Promise<string>;
  authorize(callerArn: string): string;
  pending(): Promise<PendingResponse>;
  timeline(incidentId: string): Promise<Timeline>;
  decide(callerArn: string, request: DecisionRequest): Promise<DecisionResponse>;
  breakerStatus(): Promise<BreakerStatus>;
  resetBreaker(callerArn: string, reason: string): Promise<BreakerStatus>;
  startRollback(callerArn: string, request: RollbackRequestBody): Promise<RollbackResponse>;
  dismiss(callerArn: string, request: DismissRequest): Promise<DismissResponse>;
}

export function responderApi(deps: ResponderDeps): ResponderApi {
  return {
    identify: (request) => deps.identify(request),
    authorize: (callerArn) => authorize(deps, callerArn),
    pending: () => pending(deps),
    timeline: (incidentId) => timeline(deps, incidentId),
    decide: (callerArn, request) => decide(deps, callerArn, request),
    breakerStatus: () => breakerStatus(deps),
    resetBreaker: (callerArn, reason) => resetBreaker(deps, callerArn, reason),
    startRollback: (callerArn, request) => startRollback(deps, callerArn, request),
    dismiss: (callerArn, request) => dismiss(deps, callerArn, request),
  };
}

/** Longest body accepted; a decision is a few hundred bytes. */
const MAX_BODY_BYTES = 16 * 1024;

export type RouteLogger = Pick<Logger, 'info' | 'error'>;

export async function route(
  event: LambdaFunctionURLEventWithIAMAuthorizer,
  service: ResponderApi,
  logger: RouteLogger,
): Promise<APIGatewayProxyStructuredResultV2> {
  const method = event.requestContext.http.method.toUpperCase();
  const path = event.rawPath.replace(/\/+$/, '') || '/';
  let callerArn: string | undefined;
  try {
    const body = rawBody(event);
    callerArn = await service.identify({
      method,
      path: event.rawPath,
      body,
      audience: event.requestContext.domainName,
      proof: event.headers?.[CALLER_PROOF_HEADER],
    });
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
      return json(200, await service.decide(caller, parseBody(body, DecisionRequestSchema)));
    }
    if (path === '/breaker') {
      allow(method, 'GET');
      return json(200, await service.breakerStatus());
    }
    if (path === '/breaker/reset') {
      allow(method, 'POST');
      const { reason } = parseBody(body, BreakerResetRequestSchema);
      return json(200, await service.resetBreaker(caller, reason));
    }
    if (path === '/rollbacks') {
      allow(method, 'POST');
      return json(
        200,
        await service.startRollback(caller, parseBody(body, RollbackRequestBodySchema)),
      );
    }
    if (path === '/dismissals') {
      allow(method, 'POST');
      return json(200, await service.dismiss(caller, parseBody(body, DismissRequestSchema)));
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

/** The body as sent, refused when longer than MAX_BODY_BYTES. */
function rawBody(event: LambdaFunctionURLEventWithIAMAuthorizer): string {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new EndpointError('invalid_request', `body larger than ${MAX_BODY_BYTES} bytes`);
  }
  return text;
}

function parseBody<T>(text: string, schema: z.ZodType<T>): T {
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

export function makeHandler(
  env: Environment,
  clients: { sfn: SFNClient; sts: StsTransport } = {
    sfn: new SFNClient(clientOptions),
    sts: sendToSts,
  },
) {
  const { logger, ledger, dynamo, now } = boot(env, 'responder-api');
  const guardrailsTable = requireEnv(env, ENV.guardrailsTable);
  const region = requireEnv(env, 'AWS_REGION');
  const api = responderApi({
    store: new ApprovalStore({ client: dynamo, tableName: requireEnv(env, ENV.approvalsTable) }),
    ledger,
    sfn: clients.sfn,
    breaker: new CircuitBreaker({ client: dynamo, tableName: guardrailsTable, now }),
    identify: proofIdentifier({
      replay: new ProofReplayGuard({ client: dynamo, tableName: guardrailsTable }),
      region,
      sts: stsEndpoint(env, region),
      send: clients.sts,
      now,
    }),
    tokens: kmsTokenOpener(requireEnv(env, ENV.tokenKey)),
    approvalKey: kmsApprovalSigner(
      requireJsonEnv(env, ENV.approvalPolicy, ApprovalPolicySchema).keyId,
    ),
    responders: requireJsonEnv(env, ENV.responders, z.array(z.string())),
    rollbackStateMachineArn: requireEnv(env, ENV.rollbackStateMachine),
    logger,
    now,
  });
  // The event is never logged: it carries the caller's signed headers and proof.
  return (
    event: LambdaFunctionURLEventWithIAMAuthorizer,
    context: Context,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    logger.addContext(context);
    return route(event, api, logger);
  };
}
