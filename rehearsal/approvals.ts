import { randomUUID } from 'node:crypto';
import type { LambdaFunctionURLEventWithIAMAuthorizer } from 'aws-lambda';
import { z } from 'zod';
import { DecisionResponseSchema } from '../functions/responder-api/contract.js';
import { ENV } from '../functions/shared/runtime-config.js';
import {
  type FunctionHost,
  type JSONValue,
  jsonValue,
  lambdaContext,
  NamedError,
} from './functions.js';
import { type StandInReply, type StandInRequest, startStandIn } from './stand-in.js';
import type { TemplateFunction } from './template.js';

/**
 * The approvals of a rehearsal, through the real approval path: a
 * `.waitForTaskToken` task runs the real request-approval handler with a
 * token of its own, and emulated responders decide through the real
 * responder API handler, whose SendTaskSuccess or SendTaskFailure reaches a
 * local stand-in for Step Functions' task-token API (the only Step
 * Functions calls the responder API makes), which resumes the task.
 */

export const DECISIONS = ['approve', 'reject', 'timeout'] as const;
export type Decision = (typeof DECISIONS)[number];

export interface ApprovalRequest {
  readonly step: string;
  readonly incidentId: string;
  readonly executionArn: string;
  readonly taskToken: string;
  /**
   * What the responder API sends Step Functions for this wait: the
   * SendTaskSuccess output, or a rejection with SendTaskFailure's error name.
   * A decider that lets real responders decide (through the API) returns this.
   */
  readonly delivery: Promise<JSONValue>;
}

/**
 * Emulates the responder: returns the SendTaskSuccess output, or throws an
 * error whose `name` is what SendTaskFailure (or the timeout) would raise.
 */
export type ApprovalDecider = (request: ApprovalRequest) => Promise<JSONValue>;

/** How long an emulated responder's decision may take to reach the waiting task. */
const DELIVERY_TIMEOUT_MS = 30_000;

/** A playbook step's approval, or a rollback's (its plan names the step). */
const WaitPayloadSchema = z.union([
  z
    .object({ step: z.string(), incident: z.object({ incidentId: z.string() }) })
    .transform((p) => ({ step: p.step, incidentId: p.incident.incidentId })),
  z
    .object({
      rollback: z.object({ plan: z.object({ approvalStep: z.string(), incidentId: z.string() }) }),
    })
    .transform((p) => ({
      step: p.rollback.plan.approvalStep,
      incidentId: p.rollback.plan.incidentId,
    })),
]);

/**
 * Runs one approval wait: request-approval (`requestApproval`) stores a
 * token of its own, as Step Functions gives each wait its own, and the
 * decider answers; the task resumes with what reached Step Functions.
 */
export async function approvalWait(
  payload: unknown,
  executionArn: string,
  requestApproval: (payload: JSONValue) => Promise<unknown>,
  decide: ApprovalDecider,
): Promise<JSONValue> {
  const request = WaitPayloadSchema.parse(payload);
  const taskToken = `rehearsal-token-${randomUUID()}`;
  const waiting = taskTokens.expect(taskToken);
  const delivery = waiting.outcome.then((outcome) => {
    if (outcome.kind === 'failure') throw new NamedError(outcome.error, outcome.cause);
    return jsonValue(JSON.parse(outcome.output));
  });
  delivery.catch(() => undefined); // a decider that never delivers leaves it unobserved
  try {
    await requestApproval(
      jsonValue({ ...z.record(z.string(), z.unknown()).parse(payload), taskToken }),
    );
    return await decide({ ...request, taskToken, executionArn, delivery });
  } finally {
    waiting.cancel();
  }
}

/**
 * The emulated responders: they decide through the real responder API
 * handler (a second responder approves too when the step needs two), and
 * the task resumes with whatever that handler sent to Step Functions. A
 * timeout is nobody answering.
 */
export class EmulatedResponders {
  constructor(
    private readonly host: FunctionHost,
    private readonly api: TemplateFunction | undefined,
    private readonly where: { readonly partition: string; readonly account: string },
  ) {}

  async respond(decision: Decision, request: ApprovalRequest): Promise<JSONValue> {
    if (decision === 'timeout') {
      throw new NamedError('States.Timeout', 'no decision before the approval timeout');
    }
    const [first, second] = rehearsalResponders(this.where.partition, this.where.account).sessions;
    const verb = decision === 'approve' ? 'approved' : 'rejected';
    const body = { incidentId: request.incidentId, step: request.step, decision };
    let response = await this.decide(first, { ...body, reason: `${verb} in rehearsal` });
    if (response.status === 'AWAITING_SECOND_APPROVER') {
      response = await this.decide(second, {
        ...body,
        reason: `${verb} in rehearsal (second responder)`,
      });
    }
    return Promise.race([
      request.delivery,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`step ${request.step}: the decision never reached the task`)),
          DELIVERY_TIMEOUT_MS,
        ).unref(),
      ),
    ]);
  }

  /** A signed decision as the responder API's function URL would receive it. */
  private async decide(callerArn: string, body: Record<string, string>) {
    const fn = this.api;
    if (!fn) throw new Error('the template has no responder API function');
    const { role } = rehearsalResponders(this.where.partition, this.where.account);
    const configured = z
      .array(z.string())
      .parse(JSON.parse(fn.environment[ENV.responders] ?? '[]'));
    const handler = await this.host.handler({
      ...fn,
      environment: { ...fn.environment, [ENV.responders]: JSON.stringify([...configured, role]) },
    });
    const result = z.object({ statusCode: z.number(), body: z.string() }).parse(
      await handler(
        functionUrlEvent({
          callerArn,
          account: this.where.account,
          method: 'POST',
          path: '/decisions',
          body,
        }),
        lambdaContext(fn),
      ),
    );
    if (result.statusCode !== 200) {
      throw new Error(`approval endpoint answered ${result.statusCode}: ${result.body}`);
    }
    return DecisionResponseSchema.parse(JSON.parse(result.body));
  }
}

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
