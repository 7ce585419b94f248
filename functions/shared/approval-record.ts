import { KMSClient, KMSInvalidMacException, VerifyMacCommand } from '@aws-sdk/client-kms';
import {
  type ApprovalRecord,
  type ApprovalRecordKind,
  ApprovalRecordSchema,
  type SignedApproval,
  SignedApprovalSchema,
} from './approval-schema.js';
import { clientOptions } from './aws.js';
import { type Environment, requireJsonEnv } from './env.js';
import { ENV } from './env-names.js';
import { classifyAwsError } from './errors.js';
import { principalIdentity, samePrincipal } from './iam-arn.js';
import { z } from './z.js';

/**
 * Approval records. A task token says nothing about who answered: anyone
 * holding `states:SendTaskSuccess` and a token (readable in execution
 * history) can hand a waiting step any output. So what a step acts on is
 * not that output but a record only the responder API can produce: the
 * decision (grant or rejection), the incident, step and execution it is
 * for, and the proven approvers, MAC'd with a KMS HMAC key whose
 * GenerateMac the key policy denies to every other principal. Actions and
 * record-failure verify the MAC (VerifyMac) and check every field against
 * what they are about to do.
 */

export const APPROVAL_MAC_ALGORITHM = 'HMAC_SHA_256';

export {
  APPROVAL_RECORD_KINDS,
  type ApprovalRecord,
  type ApprovalRecordKind,
  ApprovalRecordSchema,
  type SignedApproval,
  SignedApprovalSchema,
} from './approval-schema.js';

/** Fixed key order, so a record's text does not depend on how it was built. */
export function canonicalRecord(record: ApprovalRecord): string {
  const r = ApprovalRecordSchema.parse(record);
  return JSON.stringify({
    kind: r.kind,
    incidentId: r.incidentId,
    step: r.step,
    executionArn: r.executionArn,
    approvers: r.approvers,
    approvalsRequired: r.approvalsRequired,
    decidedAt: r.decidedAt,
    ...(r.requestedBy === undefined ? {} : { requestedBy: r.requestedBy }),
  });
}

/** MACs over a message's UTF-8 bytes: KMS in Lambda, a local key in unit tests. */
export interface ApprovalKey {
  /** The MAC, base64. Only the responder API's role may call this (the key policy). */
  mac(message: string): Promise<string>;
  /** False when the MAC is not this key's MAC of this message. */
  verify(message: string, mac: string): Promise<boolean>;
}

/**
 * Verifying with the KMS HMAC key `keyId` (an id, ARN or alias). Making a
 * MAC lives with the responder API (responder-api/approval-signer.ts), so no
 * other function even imports the call.
 */
export function kmsApprovalVerifyKey(
  keyId: string,
  kms = new KMSClient(clientOptions),
): Pick<ApprovalKey, 'verify'> {
  return {
    async verify(message, mac) {
      try {
        const out = await kms.send(
          new VerifyMacCommand({
            KeyId: keyId,
            MacAlgorithm: APPROVAL_MAC_ALGORITHM,
            Message: Buffer.from(message, 'utf8'),
            Mac: Buffer.from(mac, 'base64'),
          }),
        );
        return out.MacValid === true;
      } catch (error) {
        if (error instanceof KMSInvalidMacException) return false;
        throw classifyAwsError(error, 'approval record verify');
      }
    },
  };
}

export async function signApproval(
  key: Pick<ApprovalKey, 'mac'>,
  record: ApprovalRecord,
): Promise<SignedApproval> {
  const text = canonicalRecord(record);
  return { record: text, mac: await key.mac(text) };
}

/**
 * What checking an approval record needs from the deployment: the key, the
 * configured responders and the two-person steps. Rendered by infra into
 * CORDON_APPROVAL_POLICY for the actions, record-failure and the responder API.
 */
export const ApprovalPolicySchema = z.strictObject({
  /** The HMAC key (ARN, id or alias). */
  keyId: z.string().min(1),
  /** `responderPrincipalArns`: IAM users and roles that may decide. */
  responders: z.array(z.string().min(1)),
  /** Steps that need two different approvers, by playbook. */
  twoPersonSteps: z.record(z.string(), z.array(z.string())),
});
export type ApprovalPolicy = z.infer<typeof ApprovalPolicySchema>;

/** The approval records' key and rules, from CORDON_APPROVAL_POLICY; a function without them does not start. */
export function approvalVerifier(env: Environment): ApprovalVerifier {
  const policy = requireJsonEnv(env, ENV.approvalPolicy, ApprovalPolicySchema);
  return {
    key: kmsApprovalVerifyKey(policy.keyId),
    responders: policy.responders,
    twoPersonSteps: policy.twoPersonSteps,
  };
}

/** Checks records against the key and the configured responders. */
export interface ApprovalVerifier {
  readonly key: Pick<ApprovalKey, 'verify'>;
  readonly responders: readonly string[];
  readonly twoPersonSteps: ApprovalPolicy['twoPersonSteps'];
}

/** What a record must say to be acted on. */
export interface ApprovalExpectation {
  readonly kind: ApprovalRecordKind;
  readonly incidentId: string;
  readonly step: string;
  readonly executionArn: string;
  /** Approvers configuration asks for (the record may ask for more, never fewer). */
  readonly required: 1 | 2;
  /** IAM principals the decision is about: none of them may have approved. */
  readonly subjects: readonly string[];
  /** A rollback's requester: may not approve it. */
  readonly requestedBy?: string;
}

export type ApprovalCheck =
  | { readonly valid: true; readonly record: ApprovalRecord }
  | { readonly valid: false; readonly reason: string };

/**
 * True when the caller is one of the configured responders: an IAM user
 * by its exact ARN, a role by any of its sessions (a session ARN drops the
 * role's path, so account and name identify the role).
 */
export function isResponder(callerArn: string, responders: readonly string[]): boolean {
  const role = principalIdentity(callerArn)?.includes(':role:') === true;
  return responders.some((responder) =>
    role ? samePrincipal(callerArn, responder) : responder === callerArn,
  );
}

/** Approvers a playbook step needs by configuration. */
export function requiredApprovers(
  twoPersonSteps: ApprovalPolicy['twoPersonSteps'],
  playbook: string,
  step: string,
): 1 | 2 {
  return twoPersonSteps[playbook]?.includes(step) ? 2 : 1;
}

/**
 * Verifies `signed` (anything: it came through the state machine) against
 * the key, then every claim it makes against `expected`. Never throws for
 * a bad record, only for a KMS failure (so a throttled VerifyMac is retried,
 * not taken for a forgery).
 */
export async function checkApproval(
  signed: unknown,
  expected: ApprovalExpectation,
  verifier: ApprovalVerifier,
): Promise<ApprovalCheck> {
  const refuse = (reason: string): ApprovalCheck => ({ valid: false, reason });
  const parsed = SignedApprovalSchema.safeParse(signed);
  if (!parsed.success) return refuse('it carries no approval record from the responder API');
  if (!(await verifier.key.verify(parsed.data.record, parsed.data.mac))) {
    return refuse('its approval record does not verify: the responder API did not produce it');
  }
  let json: unknown;
  try {
    json = JSON.parse(parsed.data.record);
  } catch {
    return refuse('its approval record is not JSON');
  }
  const record = ApprovalRecordSchema.safeParse(json);
  if (!record.success) return refuse('its approval record is not an approval record');
  const r = record.data;
  for (const field of ['kind', 'incidentId', 'step', 'executionArn'] as const) {
    if (r[field] !== expected[field]) {
      return refuse(
        `its approval record is for ${field} ${JSON.stringify(r[field])}, not ${JSON.stringify(expected[field])}`,
      );
    }
  }
  const stranger = r.approvers.find((a) => !isResponder(a, verifier.responders));
  if (stranger !== undefined) {
    return refuse(`${stranger} decided it, and is not a configured responder`);
  }
  const subject = r.approvers.find((a) => expected.subjects.some((s) => samePrincipal(a, s)));
  if (subject !== undefined) {
    return refuse(`${subject} decided it, and the decision is about that principal`);
  }
  if (expected.requestedBy !== undefined && r.approvers.includes(expected.requestedBy)) {
    return refuse(`${expected.requestedBy} requested it, and may not approve it`);
  }
  const needed = Math.max(expected.required, r.approvalsRequired);
  const distinct = new Set(r.approvers).size;
  if (r.kind === 'grant' && distinct < needed) {
    return refuse(`it needs ${needed} different approvers and has ${distinct}`);
  }
  return { valid: true, record: r };
}

/** The IAM users and roles among `arns`, each once. */
export function principalsAmong(arns: ReadonlyArray<string | undefined>): string[] {
  const found = arns.filter(
    (a): a is string => a !== undefined && principalIdentity(a) !== undefined,
  );
  return [...new Set(found)];
}
