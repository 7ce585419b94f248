import type { ActionIam } from '../shared/iam.js';
import { iam as blockPublicAccess } from './block-public-access/iam.js';
import { iam as detachFromAsg } from './detach-from-asg/iam.js';
import { iam as detachInstanceProfile } from './detach-instance-profile/iam.js';
import { iam as disableAccessKey } from './disable-access-key/iam.js';
import { iam as isolateNetwork } from './isolate-network/iam.js';
import { iam as lockSecret } from './lock-secret/iam.js';
import { iam as preserveEvidence } from './preserve-evidence/iam.js';
import { iam as quarantineFunction } from './quarantine-function/iam.js';
import { iam as quarantineUser } from './quarantine-user/iam.js';
import type { ContainmentActionName } from './registry.js';
import { iam as revokeSessions } from './revoke-sessions/iam.js';
import { iam as rotateSecret } from './rotate-secret/iam.js';

/**
 * Each action's roles, as its folder's `iam.ts` declares them, for
 * functions/registry.ts (infra, the rehearsal, the tests). No function
 * imports this: the action definitions that request-approval, rollback-plan
 * and every action's shared code read carry no IAM declaration, about 8 KB
 * of each of those bundles. The type requires a line for every action.
 */
export const ACTION_ROLES = {
  'disable-access-key': disableAccessKey,
  'revoke-sessions': revokeSessions,
  'quarantine-user': quarantineUser,
  'preserve-evidence': preserveEvidence,
  'detach-from-asg': detachFromAsg,
  'isolate-network': isolateNetwork,
  'detach-instance-profile': detachInstanceProfile,
  'rotate-secret': rotateSecret,
  'lock-secret': lockSecret,
  'quarantine-function': quarantineFunction,
  'block-public-access': blockPublicAccess,
} as const satisfies Record<ContainmentActionName, ActionIam>;
