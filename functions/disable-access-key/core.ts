import {
  type IAMClient,
  ListAccessKeysCommand,
  type ListAccessKeysCommandOutput,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { type Containment, type ContainmentDeps, runContainment } from '../shared/action.js';
import { InvalidTaskInputError, isNotFound } from '../shared/errors.js';
import { isLongTermAccessKeyId, principalArn } from '../shared/iam-arn.js';
import type { ActionInput, ActionResult, Incident } from '../shared/incident.js';
import { requirePrincipal } from '../shared/incident.js';

/** What the ledger records before and after: enough to re-enable the key. */
export interface AccessKeyState {
  readonly accessKeyId: string;
  readonly status: string;
  readonly createDate?: string;
}

export interface AccessKeyTarget {
  readonly userName: string;
  readonly userArn: string;
  readonly accessKeyId: string;
}

export interface DisableAccessKeyDeps extends ContainmentDeps {
  readonly iam: IAMClient;
}

export function accessKeyTarget(incident: Incident): AccessKeyTarget {
  const principal = requirePrincipal(incident, 'disable-access-key');
  if (principal.kind !== 'IAMUser') {
    throw new InvalidTaskInputError(
      `disable-access-key needs an IAMUser principal, got ${principal.kind}`,
    );
  }
  const userName = principalArn(incident, 'user', 'disable-access-key').name;
  const accessKeyId = principal.accessKeyId;
  if (!isLongTermAccessKeyId(accessKeyId)) {
    throw new InvalidTaskInputError(
      `disable-access-key needs a long-term access key id (AKIA...), got ${JSON.stringify(accessKeyId ?? null)}`,
    );
  }
  return { userName, userArn: principal.arn, accessKeyId };
}

/** Disables the one access key named in the finding; the user's other keys are left alone. */
export function accessKeyContainment(iam: IAMClient): Containment<AccessKeyTarget, AccessKeyState> {
  return {
    action: 'disable-access-key',
    target: accessKeyTarget,
    targetArn: (target) => target.userArn,
    async read(target) {
      let marker: string | undefined;
      do {
        let page: ListAccessKeysCommandOutput;
        try {
          page = await iam.send(
            new ListAccessKeysCommand({ UserName: target.userName, Marker: marker }),
          );
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
        const key = page.AccessKeyMetadata?.find((k) => k.AccessKeyId === target.accessKeyId);
        if (key) {
          return {
            accessKeyId: target.accessKeyId,
            status: key.Status ?? 'Unknown',
            ...(key.CreateDate ? { createDate: key.CreateDate.toISOString() } : {}),
          };
        }
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
      return undefined;
    },
    isContained: (state) => state.status === 'Inactive',
    describe: (target) => `disable access key ${target.accessKeyId} of user ${target.userName}`,
    async apply(target, state) {
      await iam.send(
        new UpdateAccessKeyCommand({
          UserName: target.userName,
          AccessKeyId: target.accessKeyId,
          Status: 'Inactive',
        }),
      );
      return { ...state, status: 'Inactive' };
    },
  };
}

export function disableAccessKey(
  input: ActionInput,
  deps: DisableAccessKeyDeps,
): Promise<ActionResult> {
  return runContainment(input, accessKeyContainment(deps.iam), deps);
}
