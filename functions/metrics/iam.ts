import { APPROVALS_WAITING_INDEX } from '../responder-api/store.js';
import { allow, LEDGER_STREAM_READER, type RoleSpec } from '../shared/iam.js';

/**
 * Read the ledger's stream (Lambda's poller makes those calls with this
 * role) and, from the baseline, the ledger itself (an incident's entries,
 * for times to contain and approval waits); count the waiting approvals on
 * the approvals table's waiting index. It writes nothing of Cordon's: its
 * metrics go to its log group, in embedded metric format.
 */
export const iam: RoleSpec = {
  statements: (ctx) => [
    ...LEDGER_STREAM_READER.statements(ctx),
    allow(['dynamodb:Query'], [`${ctx.cordon.approvalsTable}/index/${APPROVALS_WAITING_INDEX}`]),
  ],
  notCalled: {
    'dynamodb:GetItem':
      "The approvals store's other methods (the responder API's): the metrics function only counts",
    'dynamodb:UpdateItem':
      "The approvals store's other methods (the responder API's): the metrics function only counts",
  },
  unscoped: LEDGER_STREAM_READER.unscoped,
  onItsBehalf: LEDGER_STREAM_READER.onItsBehalf,
};
