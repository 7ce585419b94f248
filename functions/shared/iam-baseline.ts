/**
 * The IAM manifests: every function declares, next to its code in
 * `functions/<action>/iam.ts`, exactly the IAM actions its code calls
 * (`IAM_ACTIONS`), the ones granted on `Resource: "*"` with why
 * (`UNSCOPED`), and the SDK commands its shared modules import that it never
 * sends (`NOT_CALLED`, with why). The infra tests check each role in the
 * synthesized template against its manifest plus this baseline, and each
 * manifest against the SDK commands the code imports. Nothing here grants
 * anything: infra/grants.ts does, and the tests hold the two together.
 */

/** An IAM action, `service:Action`, never a wildcard. */
export type IamAction = `${string}:${string}`;

/** What every function's role holds besides its manifest, each on one resource. */
export const BASELINE = {
  /**
   * Appending to the ledger (functions/shared/ledger.ts): a conditional
   * PutItem, and Query for the latest entry to chain onto. On the ledger
   * table only; never UpdateItem, DeleteItem or BatchWriteItem.
   */
  ledger: ['dynamodb:PutItem', 'dynamodb:Query'],
  /** Writing to the function's own log group. */
  logs: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  /** Active tracing (X-Ray), on `Resource: "*"`. */
  tracing: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
} as const satisfies Record<string, readonly IamAction[]>;

/** Every baseline action. */
export const BASELINE_ACTIONS: readonly IamAction[] = [
  ...BASELINE.ledger,
  ...BASELINE.logs,
  ...BASELINE.tracing,
];

/** Why the baseline's tracing calls use `Resource: "*"`. */
export const BASELINE_UNSCOPED: Readonly<Record<(typeof BASELINE.tracing)[number], string>> = {
  'xray:PutTraceSegments': 'X-Ray trace uploads have no resource types: IAM takes only "*"',
  'xray:PutTelemetryRecords': 'X-Ray telemetry uploads have no resource types: IAM takes only "*"',
};

/**
 * Publishing to the KMS-encrypted notification topic: SNS calls the key on
 * the publisher's behalf, with the publisher's permissions.
 */
export const ENCRYPTED_PUBLISH = ['sns:Publish', 'kms:Decrypt', 'kms:GenerateDataKey'] as const;

/** Why EC2 and Auto Scaling Describe calls use `Resource: "*"`. */
export const DESCRIBE_REASON =
  'a Describe call: it has no resource types, so IAM takes only "*" (read only)';
