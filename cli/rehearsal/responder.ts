import { randomUUID } from 'node:crypto';
import type { LambdaFunctionURLEventWithIAMAuthorizer } from 'aws-lambda';
import { z } from 'zod';
import { type StandInReply, type StandInRequest, startStandIn } from './stand-in.js';

/**
 * What a rehearsal needs to put the real approval path in the loop: a local
 * stand-in for Step Functions' task-token API (SendTaskSuccess and
 * SendTaskFailure, the only calls the approval function makes to Step
 * Functions), and function URL events signed, as far as the handler can
 * tell, by an emulated responder.
 */

/** The decision Step Functions received for a token. */
export type TokenOutcome =
  | { readonly kind: 'success'; readonly output: string }
  | { readonly kind: 'failure'; readonly error: string; readonly cause: string };

const SendSchema = z.object({
  taskToken: z.string(),
  output: z.string().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
});

/**
 * One per process: the approval handler's Step Functions client finds it
 * through `AWS_ENDPOINT_URL_SFN`, which the SDK reads at each request, and
 * tokens are unique, so engines in the same process share it safely.
 */
class TaskTokenService {
  private started: Promise<void> | undefined;
  private readonly waiting = new Map<string, (outcome: TokenOutcome) => void>();

  /** Starts the service (once) and points Step Functions clients at it. */
  start(): Promise<void> {
    this.started ??= startStandIn(
      (request) => this.handle(request),
      'application/x-amz-json-1.0',
    ).then((url) => {
      process.env.AWS_ENDPOINT_URL_SFN = url;
    });
    return this.started;
  }

  /** A promise for the decision on `token`, and a function to stop waiting. */
  expect(token: string): { readonly outcome: Promise<TokenOutcome>; readonly cancel: () => void } {
    const outcome = new Promise<TokenOutcome>((resolve) => this.waiting.set(token, resolve));
    return { outcome, cancel: () => this.waiting.delete(token) };
  }

  private handle({ target, body }: StandInRequest): StandInReply {
    const reply = (status: number, value: unknown) => ({ status, body: value });
    const parsed = SendSchema.safeParse(body);
    if (!parsed.success) return reply(400, { __type: 'InvalidToken', message: 'no task token' });
    const resolve = this.waiting.get(parsed.data.taskToken);
    if (!resolve) {
      return reply(400, { __type: 'TaskDoesNotExist', message: 'no task waits on this token' });
    }
    this.waiting.delete(parsed.data.taskToken);
    if (target === 'AWSStepFunctions.SendTaskSuccess') {
      resolve({ kind: 'success', output: parsed.data.output ?? 'null' });
      return reply(200, {});
    }
    if (target === 'AWSStepFunctions.SendTaskFailure') {
      resolve({ kind: 'failure', error: parsed.data.error ?? '', cause: parsed.data.cause ?? '' });
      return reply(200, {});
    }
    this.waiting.set(parsed.data.taskToken, resolve);
    return reply(400, { __type: 'UnknownOperationException', message: target });
  }
}

export const taskTokens = new TaskTokenService();

/** The emulated responders: two, so a two-person step can be approved. */
export function rehearsalResponders(partition: string, account: string) {
  const role = `arn:${partition}:iam::${account}:role/cordon-rehearsal-responder`;
  return {
    role,
    sessions: [
      `arn:${partition}:sts::${account}:assumed-role/cordon-rehearsal-responder/first-responder`,
      `arn:${partition}:sts::${account}:assumed-role/cordon-rehearsal-responder/second-responder`,
    ] as const,
  };
}

/** A function URL request as Lambda delivers it after verifying the caller's signature. */
export function functionUrlEvent(options: {
  readonly callerArn: string;
  readonly account: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
}): LambdaFunctionURLEventWithIAMAuthorizer {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: options.path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'rehearsal.lambda-url.local' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'rehearsal',
      domainName: 'rehearsal.lambda-url.local',
      domainPrefix: 'rehearsal',
      http: {
        method: options.method,
        path: options.path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'cordon-rehearsal',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      authorizer: {
        iam: {
          accessKey: 'ASIAREHEARSAL',
          accountId: options.account,
          callerId: 'AROAREHEARSAL:responder',
          cognitoIdentity: null,
          principalOrgId: 'o-rehearsal',
          userArn: options.callerArn,
          userId: 'AROAREHEARSAL:responder',
        },
      },
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    isBase64Encoded: false,
  };
}
