import { randomUUID } from 'node:crypto';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { LambdaFunctionURLEventWithIAMAuthorizer } from 'aws-lambda';
import { z } from 'zod';
import { CALLER_PROOF_HEADER, signCallerProof } from '../functions/responder-api/caller-proof.js';
import {
  DecisionResponseSchema,
  type DismissResponse,
  DismissResponseSchema,
} from '../functions/responder-api/contract.js';
import { ApprovalPolicySchema } from '../functions/shared/approval-record.js';
import { clientOptions } from '../functions/shared/aws.js';
import { ENV } from '../functions/shared/runtime-config.js';
import {
  type FunctionHost,
  type JSONValue,
  jsonValue,
  lambdaContext,
  NamedError,
} from './functions.js';
import { type StandInReply, type StandInRequest, startStandIn } from './stand-in.js';
import type { RehearsalModel, TemplateFunction } from './template.js';

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

/**
 * The time record-failure sees in a rehearsal. Step Functions times a wait
 * out only once the approval timeout has passed, and record-failure takes
 * an earlier `States.Timeout` for a forged one; an emulated timeout happens
 * at once, so it moves this clock past the approval timeout, until the next
 * wait begins. A custom decider's forged timeout does not.
 */
class RehearsalClock {
  private offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);
  elapse(seconds: number): void {
    this.offsetMs = seconds * 1000;
  }
  reset(): void {
    this.offsetMs = 0;
  }
}

export const rehearsalClock = new RehearsalClock();

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
  rehearsalClock.reset();
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
    private readonly where: {
      readonly partition: string;
      readonly account: string;
      readonly region: string;
    },
    /** The approval timeout, in seconds: how far an emulated timeout moves the clock. */
    private readonly timeoutSeconds: number,
  ) {}

  async respond(decision: Decision, request: ApprovalRequest): Promise<JSONValue> {
    if (decision === 'timeout') {
      rehearsalClock.elapse(this.timeoutSeconds);
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

  /**
   * Dismisses an incident as the first emulated responder, through the
   * responder API (`POST /dismissals`), as `cordon dismiss` would.
   */
  async dismiss(incidentId: string, reason: string): Promise<DismissResponse> {
    const [first] = rehearsalResponders(this.where.partition, this.where.account).sessions;
    return DismissResponseSchema.parse(
      await this.post(first, '/dismissals', { incidentId, reason }),
    );
  }

  /** A decision, through the responder API. */
  private async decide(callerArn: string, body: Record<string, string>) {
    return DecisionResponseSchema.parse(await this.post(callerArn, '/decisions', body));
  }

  /**
   * A request as the responder API's function URL would receive it from
   * the CLI: the responder's session is a real one in the emulator (its
   * role assumed there), and the request carries the caller proof it signs.
   */
  private async post(callerArn: string, path: string, body: Record<string, string>) {
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
    const event = await provenFunctionUrlEvent({
      callerArn,
      // Assumed for each request: an emulator reset forgets earlier sessions.
      credentials: await assumeSession(callerArn),
      account: this.where.account,
      region: this.where.region,
      method: 'POST',
      path,
      body,
    });
    const result = z
      .object({ statusCode: z.number(), body: z.string() })
      .parse(await handler(event, lambdaContext(fn)));
    if (result.statusCode !== 200) {
      throw new Error(`approval endpoint answered ${result.statusCode}: ${result.body}`);
    }
    const answer: unknown = JSON.parse(result.body);
    return answer;
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
    /** Who asks for a rehearsed rollback: neither of the two who may approve it. */
    requester: `arn:${partition}:sts::${account}:assumed-role/cordon-rehearsal-responder/rollback-requester`,
  };
}

/**
 * The emulated responders decide as configured responders: every function
 * that checks approval records (the actions, record-failure) counts their
 * role among the responders, as the responder API does for their requests.
 */
export function admitRehearsalResponders(model: RehearsalModel, role: string): void {
  for (const fn of model.functions.values()) {
    const raw = fn.environment[ENV.approvalPolicy];
    if (raw === undefined) continue;
    const policy = ApprovalPolicySchema.parse(JSON.parse(raw));
    fn.environment[ENV.approvalPolicy] = JSON.stringify({
      ...policy,
      responders: [...policy.responders, role],
    });
  }
}

/** The host rehearsal function URL requests are sent to: a proof's audience. */
export const REHEARSAL_URL_HOST = 'rehearsal.lambda-url.local';

/**
 * Credentials of the role session `sessionArn`
 * (`arn:...:sts::<account>:assumed-role/<role>/<session>`), assumed in the
 * emulator the SDK is configured for, so its STS names that session when it
 * checks a caller proof signed with them.
 */
export async function assumeSession(sessionArn: string): Promise<AwsCredentialIdentity> {
  const match = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/([\w+=,.@-]+)$/.exec(
    sessionArn,
  );
  if (!match) throw new Error(`not a role session ARN: ${sessionArn}`);
  const [, partition, account, role, session] = match;
  const sts = new STSClient(clientOptions);
  try {
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:${partition}:iam::${account}:role/${role}`,
        RoleSessionName: session,
      }),
    );
    if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey) {
      throw new Error(`the emulator gave no credentials for ${sessionArn}`);
    }
    return {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      ...(Credentials.SessionToken ? { sessionToken: Credentials.SessionToken } : {}),
    };
  } finally {
    sts.destroy();
  }
}

/** A request to the responder API, as a function URL would deliver it. */
export interface FunctionUrlRequest {
  /** Who signed the URL request: Lambda's `authorizer.iam.userArn`, which Cordon does not trust. */
  readonly callerArn: string;
  readonly account: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** The JSON body; `rawBody` when the body is not JSON. */
  readonly body?: unknown;
  readonly rawBody?: string;
  /** More request headers (a caller proof). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The body text of a request, as sent. */
function bodyText(request: FunctionUrlRequest): string | undefined {
  return request.rawBody ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
}

/** A function URL request as Lambda delivers it after verifying the URL signature. */
export function functionUrlEvent(
  options: FunctionUrlRequest,
): LambdaFunctionURLEventWithIAMAuthorizer {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: options.path,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      host: REHEARSAL_URL_HOST,
      ...options.headers,
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'rehearsal',
      domainName: REHEARSAL_URL_HOST,
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
    ...(bodyText(options) === undefined ? {} : { body: bodyText(options) }),
    isBase64Encoded: false,
  };
}

/**
 * The same request as the CLI sends it: with a caller proof signed by
 * `credentials` for exactly this method, path and body, for the responder
 * API in `region`.
 */
export async function provenFunctionUrlEvent(
  options: FunctionUrlRequest & {
    readonly credentials: AwsCredentialIdentity;
    readonly region: string;
    /** @default now */
    readonly signingDate?: Date;
  },
): Promise<LambdaFunctionURLEventWithIAMAuthorizer> {
  const body = bodyText(options) ?? '';
  const proof = await signCallerProof({
    credentials: options.credentials,
    region: options.region,
    audience: REHEARSAL_URL_HOST,
    method: options.method,
    path: options.path,
    body,
    ...(options.signingDate ? { signingDate: options.signingDate } : {}),
  });
  return functionUrlEvent({
    ...options,
    headers: { ...options.headers, [CALLER_PROOF_HEADER]: proof },
  });
}
