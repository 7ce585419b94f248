/**
 * Environment variable names shared by infra, handlers and the rehearsal
 * engine. Apart from runtime-config.ts (which re-exports them) so a function
 * that only names a variable does not bundle the configuration schemas.
 */
export const ENV = {
  action: 'CORDON_ACTION',
  actor: 'CORDON_ACTOR_ARN',
  ledgerTable: 'LEDGER_TABLE_NAME',
  /** The ledger's HMAC key (id, ARN or alias): every entry carries its MAC. */
  ledgerKey: 'LEDGER_KEY_ID',
  topicArn: 'NOTIFICATION_TOPIC_ARN',
  config: 'CORDON_CONFIG',
  /**
   * JSON ProtectionConfig of the actions on IAM principals, which check the
   * guards again just before they change anything.
   */
  guards: 'CORDON_GUARDS',
  /** JSON array of principal ARN patterns lock-secret leaves able to read a locked secret. */
  breakGlass: 'CORDON_BREAK_GLASS_PRINCIPALS',
  /** The approvals table (task tokens): request-approval writes, approval reads. */
  approvalsTable: 'APPROVALS_TABLE_NAME',
  /** The KMS key task tokens are sealed with: request-approval encrypts, the responder API decrypts. */
  tokenKey: 'CORDON_TOKEN_KEY_ID',
  /** JSON ApprovalSettings of request-approval: timeout, two-person steps, endpoint. */
  approvalSettings: 'CORDON_APPROVAL_SETTINGS',
  /** JSON array of the IAM user and role ARNs that may decide approvals. */
  responders: 'CORDON_RESPONDERS',
  /**
   * JSON ApprovalPolicy (approval-record.ts): the approval records' HMAC key, the
   * responders and the two-person steps, for whoever makes or checks a record.
   */
  approvalPolicy: 'CORDON_APPROVAL_POLICY',
  /** The guardrails table: the circuit breaker's state and counters. */
  guardrailsTable: 'GUARDRAILS_TABLE_NAME',
  /** Seconds triage trusts the runtime mode it read (default 30; 0 reads it for every finding). */
  runtimeModeCacheSeconds: 'CORDON_RUNTIME_MODE_CACHE_SECONDS',
  /** The rollback state machine the approval endpoint starts (POST /rollbacks). */
  rollbackStateMachine: 'CORDON_ROLLBACK_STATE_MACHINE_ARN',
  /** The Object Lock bucket the anchor function writes anchors to. */
  anchorsBucket: 'CORDON_ANCHORS_BUCKET',
  /** JSON WatchConfig of the watch: Cordon's state machines and the runtime mode parameter. */
  watch: 'CORDON_WATCH',
  /**
   * JSON OrganizationRuntime (organization.ts) of a function with spoke
   * roles, organization-wide: it then acts in the finding's account through
   * that account's spoke role. Unset: single-account mode.
   */
  organization: 'CORDON_ORGANIZATION',
} as const;
