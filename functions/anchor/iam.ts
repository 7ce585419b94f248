import { allow, LEDGER_STREAM_READER, publishNotifications, type RoleSpec } from '../shared/iam.js';

/**
 * Put anchors and tampering records into the anchors bucket, under their two
 * prefixes only: no delete, no retention or legal-hold change, no bypass
 * (the bucket's compliance retention refuses those to everyone anyway).
 * Read the ledger's stream (Lambda's poller makes those calls with this
 * role). Tell responders of tampering on the notification topic.
 */
export const iam: RoleSpec = {
  statements: (ctx) => [
    {
      ...allow(['s3:PutObject'], ctx.cordon.anchorObjects),
      wildcard:
        'Object keys name the incident and entry anchored; limited to the two prefixes of the anchors bucket',
    },
    ...LEDGER_STREAM_READER.statements(ctx),
    ...publishNotifications(ctx),
  ],
  unscoped: LEDGER_STREAM_READER.unscoped,
  onItsBehalf: LEDGER_STREAM_READER.onItsBehalf,
};
