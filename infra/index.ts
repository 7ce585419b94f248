export {
  ConfigValidationError,
  type CordonConfig,
  CordonConfigSchema,
  type CordonSettings,
  type OrganizationConfig,
  parseConfig,
} from './config.js';
export { ActionFunction, type ActionFunctionProps } from './constructs/action-function.js';
export { LedgerTable } from './constructs/ledger-table.js';
export { CordonMember, type CordonMemberProps } from './constructs/member.js';
export { NotificationTopic, type NotificationTopicProps } from './constructs/notification-topic.js';
export { Playbook, type PlaybookProps, type PlaybookTrigger } from './constructs/playbook.js';
export {
  CordonRegionForwarder,
  type CordonRegionForwarderProps,
} from './constructs/region-forwarder.js';
export { Cordon, type CordonProps } from './cordon.js';
export {
  CordonRegionForwarderStack,
  type CordonRegionForwarderStackProps,
} from './forwarder-stack.js';
export {
  CordonMemberStack,
  type CordonMemberStackProps,
  MEMBER_PARAMETERS,
} from './member-stack.js';
export { CordonStack, type CordonStackProps } from './stack.js';
