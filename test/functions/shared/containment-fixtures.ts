import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NoSuchEntityException } from '@aws-sdk/client-iam';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { ApprovalRecord } from '../../../functions/shared/approval-record.js';
import type { Mode } from '../../../functions/shared/catalog.js';
import {
  type ActionInput,
  type Approval,
  type Incident,
  IncidentSchema,
  type Sequence,
} from '../../../functions/shared/incident.js';
import { Ledger, type LedgerEntry } from '../../../functions/shared/ledger.js';
import type { ProtectionConfig } from '../../../functions/shared/protection.js';
import { validatedRecord } from '../../../functions/shared/validated.js';
import { localVerifier, signedRecordSync } from '../../support/approval-key.js';
import { fakeLedgerMac } from '../../support/ledger-mac.js';

/**
 * Fixtures shared by the tests of the containment and reporting functions:
 * a valid incident, action inputs, AWS-shaped errors and an in-memory ledger
 * behind a mocked DynamoDB document client.
 */

export const ACCOUNT = '123456789012';
export const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/alice`;
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/service/app-role`;
/** IAM's unique ids of alice and app-role, as triage verified them. */
export const USER_ID = 'AIDAEXAMPLEALICE0001';
export const ROLE_ID = 'AROAEXAMPLEAPPROLE01';
export const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
export const OTHER_KEY_ID = 'AKIAI44QH8DHBEXAMPLE';
export const ACTOR = `arn:aws:iam::${ACCOUNT}:role/cordon/cordon-action`;

/** The guard settings the actions on IAM principals check again before they act. */
export const GUARDS: ProtectionConfig = {
  protectedPrincipalPatterns: [`arn:aws:iam::${ACCOUNT}:user/break-glass/*`],
  cordonRoleArns: [`arn:aws:iam::${ACCOUNT}:role/cordon/Cordon-RevokeSessions-ABC123`],
  exemptTag: { key: 'cordon:exempt', value: 'true' },
};
export const EXECUTION_ARN = `arn:aws:states:us-east-1:${ACCOUNT}:execution:cordon-iam-credentials:run-1`;
export const FINDING_UPDATED_AT = '2026-03-01T10:00:00.000Z';

export function incident(overrides: Partial<Incident> = {}): Incident {
  return IncidentSchema.parse({
    incidentId: 'inc-0123456789abcdef0123',
    playbook: 'iam-credentials',
    source: 'guardduty',
    findingId: 'f-0001',
    findingType: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
    severity: 8,
    severityLabel: 'HIGH',
    account: ACCOUNT,
    region: 'us-east-1',
    updatedAt: FINDING_UPDATED_AT,
    principal: {
      kind: 'IAMUser',
      arn: USER_ARN,
      name: 'alice',
      accessKeyId: KEY_ID,
      uniqueId: USER_ID,
    },
    plan: {
      disableAccessKey: { mode: 'auto' },
      revokeUserSessions: { mode: 'auto' },
      quarantineUser: { mode: 'approve' },
      revokeRoleSessions: { mode: 'approve' },
    },
    ...overrides,
  });
}

export const roleIncident = (plan: Record<string, { mode: Mode }> = {}): Incident =>
  incident({
    principal: {
      kind: 'AssumedRole',
      arn: ROLE_ARN,
      name: 'app-role',
      accessKeyId: 'ASIAEXAMPLE',
      uniqueId: ROLE_ID,
    },
    plan: { revokeRoleSessions: { mode: 'auto' }, ...plan },
  });

/** The configured responders of the action tests. */
export const RESPONDER = `arn:aws:iam::${ACCOUNT}:user/responder`;
export const RESPONDER_ROLE = `arn:aws:iam::${ACCOUNT}:role/SecurityResponder`;
/** What the actions check approval records with: the local key, these responders. */
export const APPROVALS = localVerifier([RESPONDER, RESPONDER_ROLE]);

/** A responder's approval of `step` of the default incident, with its grant record. */
export const approved = (
  step: string,
  record: Partial<ApprovalRecord> = {},
  incidentId = 'inc-0123456789abcdef0123',
): Extract<Approval, { decision: 'APPROVED' }> => ({
  decision: 'APPROVED',
  step,
  approver: RESPONDER,
  decidedAt: '2026-03-01T10:05:00.000Z',
  grant: signedRecordSync({
    kind: 'grant',
    incidentId,
    step,
    executionArn: EXECUTION_ARN,
    approvers: [RESPONDER],
    approvalsRequired: 1,
    decidedAt: '2026-03-01T10:05:00.000Z',
    ...record,
  }),
});

export const notRequired = (step: string): Approval => ({ decision: 'NOT_REQUIRED', step });

export function actionInput(
  step: string,
  options: { mode?: Mode; incident?: Incident; approval?: Approval } = {},
): ActionInput {
  const base = options.incident ?? incident();
  const withMode =
    options.mode === undefined
      ? base
      : { ...base, plan: { ...base.plan, [step]: { mode: options.mode } } };
  return {
    incident: withMode,
    step,
    executionArn: EXECUTION_ARN,
    approval: options.approval ?? notRequired(step),
  };
}

/** AWS-shaped errors, as the SDK throws them. */
export const awsError = (name: string, httpStatusCode = 400): Error =>
  Object.assign(new Error(`${name} from AWS`), { name, $metadata: { httpStatusCode } });

export const noSuchEntity = (): Error =>
  new NoSuchEntityException({
    message: 'The user with name alice cannot be found.',
    $metadata: {},
  });

interface LedgerQuery {
  readonly ExpressionAttributeValues: { readonly ':pk': string };
  readonly ScanIndexForward?: boolean;
  readonly Limit?: number;
}

/**
 * An in-memory, append-only ledger table behind a mocked document client:
 * the real Ledger class runs unchanged against it. `failNextPut` simulates a
 * crash between an AWS call and its ledger write.
 */
export function fakeLedger(now: () => Date = () => new Date('2026-03-01T10:10:00.000Z')) {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const ddb = mockClient(client);
  const items: LedgerEntry[] = [];
  let nextPutError: { error: Error; when: (entry: LedgerEntry) => boolean } | undefined;
  ddb.on(QueryCommand).callsFake((input: LedgerQuery) => {
    const mine = items
      .filter((i) => i.incidentId === input.ExpressionAttributeValues[':pk'])
      .sort((a, b) => (input.ScanIndexForward === false ? b.seq - a.seq : a.seq - b.seq));
    return { Items: input.Limit === undefined ? mine : mine.slice(0, input.Limit) };
  });
  ddb.on(PutCommand).callsFake((input: { Item: LedgerEntry }) => {
    if (nextPutError?.when(input.Item)) {
      const { error } = nextPutError;
      nextPutError = undefined;
      throw error;
    }
    if (items.some((i) => i.incidentId === input.Item.incidentId && i.seq === input.Item.seq)) {
      throw new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });
    }
    items.push(input.Item);
    return {};
  });
  return {
    ddb,
    ledger: new Ledger({ client, tableName: 'cordon-ledger', now, mac: fakeLedgerMac() }),
    entries: (): LedgerEntry[] => [...items],
    /** Fails the next put, or the next one of an entry `when` picks. */
    failNextPut(error: Error, when: (entry: LedgerEntry) => boolean = () => true): void {
      nextPutError = { error, when };
    },
  };
}

export const INSTANCE_ID = 'i-0123456789abcdef0';
export const INSTANCE_ARN = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${INSTANCE_ID}`;
export const INSTANCE_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/web-instance-role`;
export const INSTANCE_PROFILE_ARN = `arn:aws:iam::${ACCOUNT}:instance-profile/web-instance-profile`;
export const VPC_ID = 'vpc-0a1b2c3d4e5f60789';
/** The instance's network interface, in the isolate actions' fakes that need one. */
export const ENI_ID = 'eni-0000000000000000e';

/** The tag preserve-evidence leaves on the instance and its interfaces: the isolate step's gate. */
export const INCIDENT_TAGS = [{ Key: 'cordon:incident', Value: 'inc-0123456789abcdef0123' }];

/**
 * An ec2-instance incident: the instance, its role as the principal, and the
 * playbook's steps in their default modes (the isolate step's actions share
 * the `isolate` step id and its approval).
 */
export function ec2Incident(plan: Record<string, { mode: Mode }> = {}): Incident {
  return incident({
    playbook: 'ec2-instance',
    findingType: 'Backdoor:EC2/C&CActivity.B',
    principal: { kind: 'AssumedRole', arn: INSTANCE_ROLE_ARN, name: 'web-instance-role' },
    instance: {
      instanceId: INSTANCE_ID,
      arn: INSTANCE_ARN,
      vpcId: VPC_ID,
      instanceProfileArn: INSTANCE_PROFILE_ARN,
    },
    plan: {
      preserveEvidence: { mode: 'auto' },
      isolate: { mode: 'approve' },
      revokeInstanceRoleSessions: { mode: 'approve' },
      ...plan,
    },
  });
}

export const SECRET_NAME = 'prod/payments/db';
export const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${SECRET_NAME}-AbCdEf`;

/** A secret-exposure incident about one secret, both steps in their default mode. */
export function secretIncident(
  plan: Record<string, { mode: Mode }> = {},
  secret: Partial<NonNullable<Incident['secret']>> = {},
): Incident {
  return incident({
    playbook: 'secret-exposure',
    source: 'securityhub',
    findingType: 'Software and Configuration Checks/Secret exposed',
    principal: undefined,
    secret: {
      arn: SECRET_ARN,
      name: SECRET_NAME,
      rotationEnabled: true,
      exposedVersionId: 'v1',
      ...secret,
    },
    plan: { rotateSecret: { mode: 'approve' }, lockSecret: { mode: 'approve' }, ...plan },
  });
}

export const FUNCTION_NAME = 'orders-webhook';
export const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${FUNCTION_NAME}`;
export const FUNCTION_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/orders-webhook-role`;

/** An integration-quarantine incident: the function, its execution role as the principal. */
export function lambdaIncident(
  plan: Record<string, { mode: Mode }> = {},
  fn: Partial<NonNullable<Incident['lambdaFunction']>> = {},
): Incident {
  return incident({
    playbook: 'integration-quarantine',
    findingType: 'Execution:Lambda/MaliciousFile',
    principal: { kind: 'AssumedRole', arn: FUNCTION_ROLE_ARN, name: 'orders-webhook-role' },
    lambdaFunction: { arn: FUNCTION_ARN, name: FUNCTION_NAME, roleArn: FUNCTION_ROLE_ARN, ...fn },
    plan: {
      stopInvocations: { mode: 'approve' },
      revokeFunctionRoleSessions: { mode: 'approve' },
      ...plan,
    },
  });
}

export const BUCKET_NAME = 'acme-exports';
export const BUCKET_ARN = `arn:aws:s3:::${BUCKET_NAME}`;

/** An s3-exposure incident about one bucket of the home account. */
export function bucketIncident(plan: Record<string, { mode: Mode }> = {}): Incident {
  return incident({
    playbook: 's3-exposure',
    findingType: 'Policy:S3/BucketAnonymousAccessGranted',
    principal: undefined,
    bucket: { name: BUCKET_NAME, arn: BUCKET_ARN },
    plan: { blockPublicAccess: { mode: 'approve' }, ...plan },
  });
}

export const SEQUENCE_ID = 'inc-5e9e0000000000000001';
export const MEMBER_IDS = {
  user: 'inc-5e9e0000000000000002',
  instance: 'inc-5e9e0000000000000003',
  bucket: 'inc-5e9e0000000000000004',
} as const;
export const EKS_GUIDE =
  'https://docs.aws.amazon.com/guardduty/latest/ug/guardduty-remediate-kubernetes.html';

/**
 * An attack sequence's parent incident, as triage makes it: three members
 * (alice's key, an instance with its role, a bucket), each a child incident,
 * and what the sequence names that Cordon does not act on.
 */
export function sequenceIncident(overrides: Partial<Sequence> = {}): Incident {
  return incident({
    incidentId: SEQUENCE_ID,
    playbook: 'attack-sequence',
    findingType: 'AttackSequence:IAM/CompromisedCredentials',
    severity: 9,
    severityLabel: 'CRITICAL',
    principal: undefined,
    plan: { containSequence: { mode: 'approve' } },
    sequence: {
      uid: 'seq-uid-1',
      signals: 7,
      members: [
        {
          incidentId: MEMBER_IDS.user,
          playbook: 'iam-credentials',
          what: `IAM user alice, access key ${KEY_ID}`,
          targetArn: USER_ARN,
          principalArn: USER_ARN,
          steps: [
            { step: 'disableAccessKey', mode: 'approve', summary: 'Disable the access key' },
            { step: 'quarantineUser', mode: 'approve', summary: 'Deny the user everything' },
          ],
          blastRadius: ['denies user alice everything: every workload using its keys stops'],
        },
        {
          incidentId: MEMBER_IDS.instance,
          playbook: 'ec2-instance',
          what: `EC2 instance ${INSTANCE_ID}, role web-instance-role`,
          targetArn: INSTANCE_ARN,
          principalArn: INSTANCE_ROLE_ARN,
          steps: [{ step: 'isolate', mode: 'approve', summary: 'Isolate the instance' }],
          blastRadius: ['cuts every network connection of the instance'],
        },
        {
          incidentId: MEMBER_IDS.bucket,
          playbook: 's3-exposure',
          what: `S3 bucket ${BUCKET_NAME}`,
          targetArn: BUCKET_ARN,
          steps: [{ step: 'blockPublicAccess', mode: 'dry-run', summary: 'Block public access' }],
          blastRadius: [],
        },
      ],
      notActedOn: [
        {
          what: 'EKS cluster',
          id: 'arn:aws:eks:us-east-1:123456789012:cluster/prod',
          reason: 'Cordon has no playbook for Kubernetes',
          guide: EKS_GUIDE,
        },
        { what: 'iam-credentials', id: 'IAMUser/break-glass', reason: 'refused: protected' },
      ],
      ...overrides,
    },
  });
}

/**
 * Writes triage's claim of an attack sequence's parent under `executionArn`,
 * as triage/sequence.ts writes it: the validated parent, its children, and
 * every principal the sequence names (`subjects`, beyond its members').
 */
export async function claimSequence(
  ledger: Ledger,
  parent: Incident,
  executionArn: string,
  subjects: readonly string[] = [],
): Promise<void> {
  await ledger.append(parent.incidentId, {
    step: 'triage',
    action: 'triage',
    actor: ACTOR,
    outcome: 'CLAIMED',
    findingId: parent.findingId,
    executionArn,
    summary: 'claimed',
    detail: {
      children: parent.sequence?.members.map((m) => m.incidentId) ?? [],
      subjects: [...subjects],
      validated: validatedRecord(parent),
    },
  });
}
