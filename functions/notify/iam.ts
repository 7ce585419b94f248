import { publishNotifications, type RoleSpec } from '../shared/iam.js';

/** Publish to the KMS-encrypted notification topic. */
export const iam: RoleSpec = { statements: (ctx) => publishNotifications(ctx) };
