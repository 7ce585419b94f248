import {
  type IAMClient,
  ListAccessKeysCommand,
  type ListAccessKeysCommandOutput,
} from '@aws-sdk/client-iam';
import { isNotFound } from '../../shared/errors.js';
import { LONG_TERM_ACCESS_KEY_ID } from '../../shared/iam-arn.js';
import { z } from '../../shared/z.js';

/** What the ledger records before and after: enough to re-enable the key. */
export interface AccessKeyState {
  readonly accessKeyId: string;
  readonly status: string;
  readonly createDate?: string;
}

/** A recorded state a rollback can act on: a long-term key, Active or Inactive. */
export const AccessKeyStateSchema = z.object({
  accessKeyId: z.string().regex(LONG_TERM_ACCESS_KEY_ID),
  status: z.enum(['Active', 'Inactive']),
  createDate: z.string().optional(),
});

export interface AccessKeyTarget {
  readonly userName: string;
  readonly userArn: string;
  readonly accessKeyId: string;
}

export const isDisabled = (state: AccessKeyState) => state.status === 'Inactive';

/** The key's status among the user's keys; undefined when the user or the key is gone. */
export async function readAccessKey(
  iam: IAMClient,
  target: AccessKeyTarget,
): Promise<AccessKeyState | undefined> {
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
}
