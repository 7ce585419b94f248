import { InvalidTaskInputError } from '../shared/errors.js';
import { firstIssue } from '../shared/validation.js';
import { z } from '../shared/z.js';

/**
 * The events the watch rules deliver, read leniently: AWS adds fields over
 * time, so each schema requires only what the watch uses and lets the rest
 * through. An event of a kind the watch handles that lacks one of those
 * fields is refused (InvalidTaskInputError): a real AWS event always has
 * them, so it is forged or AWS changed its format, and either needs a human.
 */

export const STATUS_CHANGE_DETAIL_TYPE = 'Step Functions Execution Status Change';
export const API_CALL_DETAIL_TYPE = 'AWS API Call via CloudTrail';

/** The runtime mode parameter's calls: each writes, deletes or relabels it. */
export const PARAMETER_CALLS = [
  'PutParameter',
  'DeleteParameter',
  'DeleteParameters',
  'LabelParameterVersion',
] as const;

/** Calls that change a rule: `name` names the rule. PutRule with state DISABLED disables it. */
export const RULE_CALLS = ['PutRule', 'DisableRule', 'DeleteRule'] as const;
/** Calls that change a rule's targets: `rule` names the rule. */
export const TARGET_CALLS = ['PutTargets', 'RemoveTargets'] as const;

/** The envelope of every EventBridge event; each kind's detail is read below. */
export const EventEnvelopeSchema = z.looseObject({
  source: z.string().min(1),
  'detail-type': z.string().min(1),
  detail: z.record(z.string(), z.unknown()),
});
export type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;

/** Only what locates the execution: everything else is read from Step Functions itself. */
const StatusChangeSchema = z.looseObject({
  executionArn: z.string().min(1),
  stateMachineArn: z.string().min(1),
  status: z.string().min(1),
});

/** Who made a call, as CloudTrail's userIdentity element gives it; which fields appear depends on the type. */
const UserIdentitySchema = z.looseObject({
  type: z.string().optional(),
  principalId: z.string().optional(),
  arn: z.string().optional(),
  accountId: z.string().optional(),
  invokedBy: z.string().optional(),
  sessionContext: z
    .looseObject({
      sessionIssuer: z.looseObject({ arn: z.string().optional() }).optional(),
    })
    .optional(),
});

const ApiCallSchema = z.looseObject({
  eventSource: z.string().min(1),
  eventName: z.string().min(1),
  eventID: z.string().min(1),
  eventTime: z.string().min(1),
  awsRegion: z.string().optional(),
  sourceIPAddress: z.string().optional(),
  errorCode: z.string().optional(),
  errorMessage: z.string().optional(),
  userIdentity: UserIdentitySchema,
  requestParameters: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** Who made an API call. */
export interface Caller {
  readonly type?: string;
  /** The identity's ARN: a user, an assumed-role session, root. */
  readonly arn?: string;
  /** For a role session, the role that issued it. */
  readonly roleArn?: string;
  readonly principalId?: string;
  readonly accountId?: string;
  /** The AWS service that made the call on the caller's behalf. */
  readonly invokedBy?: string;
}

/** One API call CloudTrail recorded, as much as the watch reports of it. */
export interface ApiCall {
  readonly eventName: string;
  /** CloudTrail's id of the record: `aws cloudtrail lookup-events` finds it by this. */
  readonly eventId: string;
  readonly eventTime: string;
  readonly region?: string;
  readonly sourceIp?: string;
  /** Set when AWS refused the call (AccessDenied, a validation error...): nothing changed. */
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly caller: Caller;
  readonly request: Readonly<Record<string, unknown>>;
}

export type WatchedEvent =
  /** An execution's status changed (the watch acts on ABORTED, TIMED_OUT and FAILED). */
  | {
      readonly kind: 'status-change';
      readonly executionArn: string;
      readonly stateMachineArn: string;
      readonly status: string;
    }
  /** StopExecution was called. */
  | { readonly kind: 'stop-execution'; readonly call: ApiCall; readonly executionArn: string }
  /** A parameter was written, deleted or relabelled: the ones it names. */
  | { readonly kind: 'parameter'; readonly call: ApiCall; readonly names: readonly string[] }
  /** A rule or its targets changed. */
  | { readonly kind: 'rule'; readonly call: ApiCall; readonly rule: string }
  /** Anything else: the watch records nothing. */
  | { readonly kind: 'other'; readonly reason: string };

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const { where, message } = firstIssue(parsed.error, ['detail']);
    throw new InvalidTaskInputError(`${what} rejected at ${where}: ${message}`);
  }
  return parsed.data;
}

function apiCall(detail: z.infer<typeof ApiCallSchema>): ApiCall {
  const identity = detail.userIdentity;
  const roleArn = identity.sessionContext?.sessionIssuer?.arn;
  const caller: Caller = {
    ...(identity.type === undefined ? {} : { type: identity.type }),
    ...(identity.arn === undefined ? {} : { arn: identity.arn }),
    ...(roleArn === undefined ? {} : { roleArn }),
    ...(identity.principalId === undefined ? {} : { principalId: identity.principalId }),
    ...(identity.accountId === undefined ? {} : { accountId: identity.accountId }),
    ...(identity.invokedBy === undefined ? {} : { invokedBy: identity.invokedBy }),
  };
  return {
    eventName: detail.eventName,
    eventId: detail.eventID,
    eventTime: detail.eventTime,
    ...(detail.awsRegion === undefined ? {} : { region: detail.awsRegion }),
    ...(detail.sourceIPAddress === undefined ? {} : { sourceIp: detail.sourceIPAddress }),
    ...(detail.errorCode === undefined ? {} : { errorCode: detail.errorCode }),
    ...(detail.errorMessage === undefined ? {} : { errorMessage: detail.errorMessage }),
    caller,
    request: detail.requestParameters ?? {},
  };
}

const includes = <T extends string>(list: readonly T[], value: string): value is T =>
  (list as readonly string[]).includes(value);

/** A request parameter that is a non-empty string, or undefined. */
function stringParam(call: ApiCall, key: string): string | undefined {
  const value = call.request[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The CloudTrail events the watch handles, or `other`. */
function fromApiCall(detail: Record<string, unknown>): WatchedEvent {
  const parsed = parse(ApiCallSchema, detail, 'CloudTrail event');
  const call = apiCall(parsed);
  const source = parsed.eventSource;
  if (source === 'states.amazonaws.com' && call.eventName === 'StopExecution') {
    const executionArn = stringParam(call, 'executionArn');
    if (executionArn === undefined)
      return { kind: 'other', reason: 'StopExecution names no execution' };
    return { kind: 'stop-execution', call, executionArn };
  }
  if (source === 'ssm.amazonaws.com' && includes(PARAMETER_CALLS, call.eventName)) {
    const list = call.request.names;
    const names =
      call.eventName === 'DeleteParameters'
        ? Array.isArray(list)
          ? list.filter((n): n is string => typeof n === 'string')
          : []
        : [stringParam(call, 'name')].filter((n): n is string => n !== undefined);
    return { kind: 'parameter', call, names };
  }
  if (source === 'events.amazonaws.com') {
    const key = includes(RULE_CALLS, call.eventName)
      ? 'name'
      : includes(TARGET_CALLS, call.eventName)
        ? 'rule'
        : undefined;
    const rule = key === undefined ? undefined : stringParam(call, key);
    if (rule !== undefined) return { kind: 'rule', call, rule };
  }
  return { kind: 'other', reason: `${source} ${call.eventName} is not a call the watch records` };
}

/**
 * What an EventBridge event is, for the watch: an execution status change, a
 * StopExecution call, a parameter call, a rule call, or something else.
 */
export function readWatchedEvent(event: EventEnvelope): WatchedEvent {
  const detailType = event['detail-type'];
  if (event.source === 'aws.states' && detailType === STATUS_CHANGE_DETAIL_TYPE) {
    const detail = parse(StatusChangeSchema, event.detail, 'status change event');
    return { kind: 'status-change', ...detail };
  }
  if (detailType === API_CALL_DETAIL_TYPE) return fromApiCall(event.detail);
  return { kind: 'other', reason: `${event.source} "${detailType}" events are not watched` };
}

/** One CloudTrail record, whichever rule delivered it and however often: the ledger's key for it. */
export function cloudTrailKey(call: ApiCall): string {
  return `cloudtrail ${call.eventId}`;
}
