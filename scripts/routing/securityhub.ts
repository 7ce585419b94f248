import { PLAYBOOK_NAMES, type PlaybookName } from '../../functions/shared/catalog.js';
import { parseFindingEvent } from '../../functions/triage/parse/index.js';
import { matchesEventPattern } from '../../rehearsal/event-pattern.js';
import type { PlaybookRule } from './guardduty.js';

/**
 * The README's Security Hub routing table, generated from the code that
 * routes, as the GuardDuty one is: a finding of each kind, in each of the
 * two forms Security Hub sends (ASFF, "Security Hub Findings - Imported",
 * from Security Hub CSPM; OCSF, "Findings Imported V2", from Security Hub),
 * New and High, is put through the synthesized rules' event patterns, then
 * through triage's parser for each playbook whose rule matched.
 */

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** One kind of finding on one resource type, in both forms. */
interface SecurityHubCase {
  /** What the finding is, for the table. */
  readonly finding: string;
  readonly asff: { readonly type: string; readonly finding: Record<string, unknown> };
  /**
   * The OCSF form, or `undocumented` where neither Security Hub's
   * documentation nor a published finding shows how OCSF carries this kind:
   * Cordon routes none of it, and the table says so instead of guessing one.
   */
  readonly ocsf:
    | { readonly type: string; readonly finding: Record<string, unknown> }
    | 'undocumented';
}

/** The table's words for a kind of finding whose OCSF form is undocumented. */
export const UNDOCUMENTED_OCSF = 'no playbook (no documented OCSF form)';

const KEY = 'AKIAIOSFODNN7EXAMPLE';
const INSTANCE = 'i-0abc123def4567890';
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:example-AbCdEf`;
const FUNCTION = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:example`;
const BUCKET = 'arn:aws:s3:::example-bucket';
const ACCESS_POINT = `arn:aws:s3:${REGION}:${ACCOUNT}:accesspoint/example`;
const BEST_PRACTICES = 'Software and Configuration Checks/AWS Security Best Practices';
const DETECTION = ['TTPs/Credential Access'];
const EXPOSURE = ['Effects/Data Exposure'];
const CHECK = ['Software and Configuration Checks/Industry and Regulatory Standards'];

/** An ASFF resource and the fields of its finding that say what it is. */
function asff(
  type: string,
  id: string,
  finding: Record<string, unknown> = {},
  details?: Record<string, unknown>,
) {
  return {
    type,
    finding: {
      Resources: [{ Type: type, Id: id, ...(details ? { Details: details } : {}) }],
      ...finding,
    },
  };
}

/** An OCSF resource and the fields of its finding that say what it is. */
function ocsf(
  type: string,
  uid: string,
  finding: Record<string, unknown> = {},
  data?: Record<string, unknown>,
) {
  return { type, finding: { resources: [{ type, uid, ...(data ? { data } : {}) }], ...finding } };
}

const control = (id: string) => ({
  asff: {
    Types: CHECK,
    GeneratorId: `security-control/${id}`,
    Compliance: { Status: 'FAILED', SecurityControlId: id },
  },
  ocsf: {
    class_uid: 2003,
    finding_info_types: CHECK,
    compliance: { control: id, status: 'Fail', status_id: 3 },
  },
});

const CASES: readonly SecurityHubCase[] = [
  {
    finding: 'detection on a long-term access key',
    asff: asff(
      'AwsIamAccessKey',
      `AWS::IAM::AccessKey:${KEY}`,
      {},
      {
        AwsIamAccessKey: { PrincipalName: 'alice', PrincipalType: 'IAMUser', AccessKeyId: KEY },
      },
    ),
    ocsf: ocsf(
      'AWS::IAM::AccessKey',
      KEY,
      {},
      {
        access_key_id: KEY,
        user_name: 'alice',
        user_type: 'IAMUser',
      },
    ),
  },
  {
    finding: 'detection on a user',
    asff: asff('AwsIamUser', `arn:aws:iam::${ACCOUNT}:user/alice`),
    ocsf: ocsf('AWS::IAM::User', `arn:aws:iam::${ACCOUNT}:user/alice`),
  },
  {
    finding: 'detection on a role',
    asff: asff('AwsIamRole', `arn:aws:iam::${ACCOUNT}:role/app`),
    ocsf: ocsf('AWS::IAM::Role', `arn:aws:iam::${ACCOUNT}:role/app`),
  },
  {
    finding: 'detection on an instance',
    asff: asff('AwsEc2Instance', `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`),
    ocsf: ocsf('AWS::EC2::Instance', INSTANCE),
  },
  {
    finding: 'control EC2.8 failing on an instance',
    asff: asff(
      'AwsEc2Instance',
      `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`,
      control('EC2.8').asff,
    ),
    ocsf: ocsf('AWS::EC2::Instance', INSTANCE, control('EC2.8').ocsf),
  },
  {
    finding: 'vulnerability on an instance (Inspector; OCSF class 2002)',
    asff: asff('AwsEc2Instance', `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`, {
      Types: ['Software and Configuration Checks/Vulnerabilities/CVE'],
    }),
    ocsf: ocsf('AWS::EC2::Instance', INSTANCE, {
      class_uid: 2002,
      finding_info_types: ['Software and Configuration Checks/Vulnerabilities/CVE'],
    }),
  },
  {
    finding: 'detection on a secret',
    asff: asff('AwsSecretsManagerSecret', SECRET),
    ocsf: ocsf('AWS::SecretsManager::Secret', SECRET),
  },
  {
    finding: 'detection on a function',
    asff: asff('AwsLambdaFunction', FUNCTION),
    ocsf: ocsf('AWS::Lambda::Function', FUNCTION),
  },
  {
    finding: 'data exposure of a bucket',
    asff: asff('AwsS3Bucket', BUCKET, { Types: EXPOSURE }),
    ocsf: ocsf('AWS::S3::Bucket', BUCKET, { finding_info_types: EXPOSURE }),
  },
  {
    finding: 'control S3.8 failing on a bucket',
    asff: asff('AwsS3Bucket', BUCKET, control('S3.8').asff),
    ocsf: ocsf('AWS::S3::Bucket', BUCKET, control('S3.8').ocsf),
  },
  {
    finding: 'control S3.2 failing on a bucket',
    asff: asff('AwsS3Bucket', BUCKET, control('S3.2').asff),
    ocsf: ocsf('AWS::S3::Bucket', BUCKET, control('S3.2').ocsf),
  },
  {
    finding: 'control S3.3 failing on a bucket',
    asff: asff('AwsS3Bucket', BUCKET, control('S3.3').asff),
    ocsf: ocsf('AWS::S3::Bucket', BUCKET, control('S3.3').ocsf),
  },
  {
    finding: 'control S3.19 failing on an access point',
    asff: asff('AwsS3AccessPoint', ACCESS_POINT, control('S3.19').asff, {
      AwsS3AccessPoint: { Bucket: 'example-bucket' },
    }),
    ocsf: 'undocumented',
  },
  {
    finding: 'IAM Access Analyzer: external access to a bucket',
    asff: asff('AwsS3Bucket', BUCKET, {
      ProductArn: `arn:aws:securityhub:${REGION}::product/aws/access-analyzer`,
      ProductName: 'IAM Access Analyzer',
      Types: [`${BEST_PRACTICES}/External Access Granted`],
    }),
    ocsf: 'undocumented',
  },
  {
    finding: 'Macie policy finding: a public bucket',
    asff: asff('AwsS3Bucket', BUCKET, {
      ProductArn: `arn:aws:securityhub:${REGION}::product/aws/macie`,
      ProductName: 'Macie',
      Types: [`${BEST_PRACTICES}/Policy:IAMUser-S3BucketPublic`],
    }),
    ocsf: 'undocumented',
  },
  {
    finding: 'control S3.6 failing on a bucket',
    asff: asff('AwsS3Bucket', BUCKET, control('S3.6').asff),
    ocsf: ocsf('AWS::S3::Bucket', BUCKET, control('S3.6').ocsf),
  },
  {
    finding: "GuardDuty's detection on a long-term access key",
    asff: asff(
      'AwsIamAccessKey',
      `AWS::IAM::AccessKey:${KEY}`,
      {
        ProductArn: `arn:aws:securityhub:${REGION}::product/aws/guardduty`,
        ProductName: 'GuardDuty',
      },
      { AwsIamAccessKey: { PrincipalName: 'alice', PrincipalType: 'IAMUser', AccessKeyId: KEY } },
    ),
    ocsf: ocsf(
      'AWS::IAM::AccessKey',
      KEY,
      {
        product: {
          uid: `arn:aws:securityhub:${REGION}::productv2/aws/guardduty`,
          name: 'GuardDuty',
        },
      },
      { access_key_id: KEY, user_name: 'alice', user_type: 'IAMUser' },
    ),
  },
  {
    // GuardDuty's own finding starts attack-sequence; its copies here start nothing.
    finding: "GuardDuty's attack sequence (its own finding starts attack-sequence)",
    asff: asff(
      'AwsIamAccessKey',
      `AWS::IAM::AccessKey:${KEY}`,
      {
        ProductArn: `arn:aws:securityhub:${REGION}::product/aws/guardduty`,
        ProductName: 'GuardDuty',
        Types: ['TTPs/AttackSequence:IAM/CompromisedCredentials'],
        Detection: {
          Sequence: {
            Uid: 'example',
            Actors: [
              {
                Id: 'actor-1',
                User: { Name: 'alice', Uid: 'AIDAEXAMPLE', Type: 'IAMUser', CredentialUid: KEY },
              },
            ],
            Signals: [{ Uid: 'example', Type: 'FINDING' }],
          },
        },
      },
      { AwsIamAccessKey: { PrincipalName: 'alice', PrincipalType: 'IAMUser', AccessKeyId: KEY } },
    ),
    ocsf: ocsf(
      'AWS::IAM::AccessKey',
      KEY,
      {
        finding_info_types: ['AttackSequence:IAM/CompromisedCredentials'],
        product: {
          uid: `arn:aws:securityhub:${REGION}::productv2/aws/guardduty`,
          name: 'GuardDuty',
        },
      },
      { access_key_id: KEY, user_name: 'alice', user_type: 'IAMUser' },
    ),
  },
];

/** An ASFF event of one finding, as Security Hub CSPM sends it, from an AWS product. */
export function asffEvent(finding: Record<string, unknown>): unknown {
  const types = finding.Types ?? DETECTION;
  return securityHubEvent('Security Hub Findings - Imported', {
    SchemaVersion: '2018-10-08',
    Id: 'example',
    ProductArn: `arn:aws:securityhub:${REGION}::product/aws/securityhub`,
    ProductName: 'Security Hub',
    GeneratorId: 'example',
    AwsAccountId: ACCOUNT,
    Region: REGION,
    Types: types,
    UpdatedAt: '2026-01-01T00:00:00Z',
    Severity: { Label: 'HIGH' },
    FindingProviderFields: { Severity: { Label: 'HIGH' }, Types: types },
    Workflow: { Status: 'NEW' },
    RecordState: 'ACTIVE',
    ...finding,
  });
}

/** An OCSF event of one finding, as Security Hub sends it ("Findings Imported V2"). */
export function ocsfEvent(finding: Record<string, unknown>): unknown {
  const { finding_info_types: types = DETECTION, product, ...rest } = finding;
  return securityHubEvent('Findings Imported V2', {
    class_uid: 2004,
    activity_name: 'Create',
    status_id: 1,
    severity_id: 4,
    vendor_attributes: { severity_id: 4 },
    cloud: { account: { uid: ACCOUNT }, region: REGION },
    finding_info: {
      uid: 'example',
      types,
      modified_time_dt: '2026-01-01T00:00:00Z',
    },
    metadata: {
      product: product ?? {
        uid: `arn:aws:securityhub:${REGION}::productv2/aws/securityhub`,
        name: 'Security Hub',
      },
    },
    ...rest,
  });
}

/** The EventBridge envelope Security Hub sends one finding in, in either form. */
function securityHubEvent(detailType: string, finding: Record<string, unknown>): unknown {
  return {
    version: '0',
    id: '00000000-0000-0000-0000-000000000000',
    'detail-type': detailType,
    source: 'aws.securityhub',
    account: ACCOUNT,
    time: '2026-01-01T00:00:00Z',
    region: REGION,
    resources: [],
    detail: { findings: [finding] },
  };
}

/** The playbooks whose rules match, each as triage takes it (or why it refuses). */
function routeText(event: unknown, rules: readonly PlaybookRule[]): string {
  const matched = PLAYBOOK_NAMES.filter((playbook: PlaybookName) =>
    rules.some((rule) => rule.playbook === playbook && matchesEventPattern(rule.pattern, event)),
  );
  if (matched.length === 0) return 'no playbook';
  return matched
    .map((playbook) => {
      try {
        const parsed = parseFindingEvent(event, playbook);
        return parsed.status === 'finding' ? playbook : `${playbook}: rule matches, triage refuses`;
      } catch {
        return `${playbook}: rule matches, triage refuses`;
      }
    })
    .join(' + ');
}

/** The table: one row per kind of finding, its resource type and route in each form. */
export function securityHubRoutingTable(rules: readonly PlaybookRule[]): string {
  const lines = [
    '| finding (New, High) | ASFF resource type | ASFF (Security Hub CSPM) | OCSF resource type | OCSF (Security Hub) |',
    '|---|---|---|---|---|',
    ...CASES.map((c) =>
      [
        '',
        c.finding,
        `\`${c.asff.type}\``,
        routeText(asffEvent(c.asff.finding), rules),
        c.ocsf === 'undocumented' ? '-' : `\`${c.ocsf.type}\``,
        c.ocsf === 'undocumented' ? UNDOCUMENTED_OCSF : routeText(ocsfEvent(c.ocsf.finding), rules),
        '',
      ]
        .join(' | ')
        .trim(),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** The README's markers around the generated table. */
export const SECURITYHUB_ROUTING_BEGIN = '<!-- securityhub-routing:begin (npm run diagrams) -->';
export const SECURITYHUB_ROUTING_END = '<!-- securityhub-routing:end -->';

/** `readme` with the text between the markers replaced by `table`. */
export function withSecurityHubRoutingTable(readme: string, table: string): string {
  const begin = readme.indexOf(SECURITYHUB_ROUTING_BEGIN);
  const end = readme.indexOf(SECURITYHUB_ROUTING_END);
  if (begin < 0 || end < begin) {
    throw new Error(
      `README.md has no ${SECURITYHUB_ROUTING_BEGIN} ... ${SECURITYHUB_ROUTING_END} section`,
    );
  }
  return `${readme.slice(0, begin + SECURITYHUB_ROUTING_BEGIN.length)}\n${table}${readme.slice(end)}`;
}
