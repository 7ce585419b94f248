import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { clientOptions } from '../functions/shared/aws.js';
import { type CompromisedUser, type FindingOptions, withLeakedKey } from './scenario.js';

/**
 * The exposure scenarios: a database password a secret scanner found in a
 * repository (no rotation configured), a Lambda function GuardDuty saw
 * talking to a command-and-control host, and a bucket made public. Used by
 * `npm run demo` and the integration tests.
 */

export interface ExposedSecret {
  readonly arn: string;
  readonly name: string;
}

export async function seedExposedSecret(
  name = 'payments-db-password',
  sm = new SecretsManagerClient(clientOptions),
): Promise<ExposedSecret> {
  // A placeholder value: the demo never reads it back, and neither does Cordon.
  const created = await sm.send(
    new CreateSecretCommand({ Name: name, SecretString: 'placeholder' }),
  );
  if (!created.ARN) throw new Error('Secrets Manager did not return the secret it created');
  return { arn: created.ARN, name };
}

export interface CompromisedFunction {
  readonly arn: string;
  readonly name: string;
  readonly roleArn: string;
  readonly roleName: string;
}

const TRUST_LAMBDA = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
});

/** An empty zip archive: the function is never invoked. */
const EMPTY_ZIP = new Uint8Array([80, 75, 5, 6, ...new Array<number>(18).fill(0)]);

export async function seedCompromisedFunction(
  name = 'image-resizer',
  clients: { lambda?: LambdaClient; iam?: IAMClient } = {},
): Promise<CompromisedFunction> {
  const lambda = clients.lambda ?? new LambdaClient(clientOptions);
  const iam = clients.iam ?? new IAMClient(clientOptions);
  const roleName = `${name}-role`;
  const role = await iam.send(
    new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: TRUST_LAMBDA }),
  );
  const roleArn = role.Role?.Arn;
  if (!roleArn) throw new Error('IAM did not return the role it created');
  const fn = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Role: roleArn,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Code: { ZipFile: EMPTY_ZIP },
    }),
  );
  if (!fn.FunctionArn) throw new Error('Lambda did not return the function it created');
  return { arn: fn.FunctionArn, name, roleArn, roleName };
}

export interface PublicBucket {
  readonly name: string;
  readonly arn: string;
}

export async function seedPublicBucket(
  name = 'marketing-assets-public',
  s3 = new S3Client({ ...clientOptions, forcePathStyle: true }),
): Promise<PublicBucket> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return { name, arn: `arn:aws:s3:::${name}` };
}

// ---------------------------------------------------------------------------
// Findings on the seeded resources, as EventBridge delivers them: fixtures
// from test/fixtures/events re-aimed at what was seeded. Each parses the part
// it patches, so a fixture that changes shape fails here with a clear message.
// ---------------------------------------------------------------------------

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'events');

function fixture<T extends z.ZodType>(name: string, schema: T): z.infer<T> {
  return schema.parse(JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')));
}

const GuardDutyEvent = z.looseObject({
  detail: z.looseObject({
    id: z.string(),
    updatedAt: z.string(),
    resource: z.looseObject({}),
    service: z.looseObject({
      action: z.looseObject({
        awsApiCallAction: z
          .looseObject({ affectedResources: z.looseObject({}).optional() })
          .optional(),
      }),
    }),
  }),
});
type GuardDutyEvent = z.infer<typeof GuardDutyEvent>;

/** The GuardDuty fixture with another finding id or update time, when given. */
function guardDuty(name: string, opts: FindingOptions): GuardDutyEvent {
  const event = fixture(name, GuardDutyEvent);
  return {
    ...event,
    detail: {
      ...event.detail,
      id: opts.findingId ?? event.detail.id,
      updatedAt: opts.updatedAt ?? event.detail.updatedAt,
    },
  };
}

/** The GuardDuty event with its API call's affected resources replaced. */
function affecting(event: GuardDutyEvent, resources: Record<string, string>): GuardDutyEvent {
  const { service } = event.detail;
  const call = service.action.awsApiCallAction ?? {};
  return {
    ...event,
    detail: {
      ...event.detail,
      service: {
        ...service,
        action: { ...service.action, awsApiCallAction: { ...call, affectedResources: resources } },
      },
    },
  };
}

const SecurityHubEvent = z.looseObject({
  detail: z.looseObject({
    findings: z
      .array(
        z.looseObject({
          Id: z.string(),
          UpdatedAt: z.string(),
          Resources: z.array(z.looseObject({ Details: z.looseObject({}) })).length(1),
        }),
      )
      .length(1),
  }),
});
type SecurityHubFinding = z.infer<typeof SecurityHubEvent>['detail']['findings'][number];

/** The Security Hub fixture with its one finding's resource (Id and Details) replaced. */
function securityHub(
  name: string,
  resource: { readonly id: string; readonly details: Record<string, unknown> },
  opts: FindingOptions,
) {
  const event = fixture(name, SecurityHubEvent);
  const findings = event.detail.findings.map(
    (finding): SecurityHubFinding => ({
      ...finding,
      Id: opts.findingId ?? finding.Id,
      UpdatedAt: opts.updatedAt ?? finding.UpdatedAt,
      Resources: finding.Resources.map((r) => ({
        ...r,
        Id: resource.id,
        Details: { ...r.Details, ...resource.details },
      })),
    }),
  );
  return { ...event, detail: { ...event.detail, findings } };
}

/** A secret scanner's Security Hub finding: the secret's value is in a public repository. */
export function secretFinding(secret: ExposedSecret, opts: FindingOptions = {}) {
  return securityHub(
    'securityhub-secret.json',
    {
      id: secret.arn,
      details: {
        AwsSecretsManagerSecret: { Name: secret.name, RotationEnabled: false, Deleted: false },
      },
    },
    opts,
  );
}

/**
 * GuardDuty: the user's leaked key called GetSecretValue on the secret from a
 * malicious IP. Starts two playbooks: iam-credentials (the key) and
 * secret-exposure (the secret).
 */
export function secretAccessFinding(
  user: CompromisedUser,
  secret: ExposedSecret,
  opts: FindingOptions = {},
) {
  const event = affecting(guardDuty('guardduty-secret-access.json', opts), {
    'AWS::SecretsManager::Secret': secret.arn,
  });
  return withLeakedKey(event, user);
}

/** GuardDuty: the function talks to a Bitcoin-related IP address. */
export function functionFinding(fn: CompromisedFunction, opts: FindingOptions = {}) {
  const event = guardDuty('guardduty-lambda.json', opts);
  const details = z
    .looseObject({ lambdaDetails: z.looseObject({}) })
    .parse(event.detail.resource).lambdaDetails;
  return {
    ...event,
    detail: {
      ...event.detail,
      resource: {
        ...event.detail.resource,
        lambdaDetails: {
          ...details,
          functionArn: fn.arn,
          functionName: fn.name,
          role: fn.roleArn,
          tags: [],
        },
      },
    },
  };
}

/** GuardDuty Policy:S3/BucketAnonymousAccessGranted on the bucket (severity 7). */
export function bucketFinding(bucket: PublicBucket, opts: FindingOptions = {}) {
  const event = affecting(guardDuty('guardduty-s3-public.json', opts), {
    'AWS::S3::Bucket': bucket.name,
  });
  const [details, ...others] = z
    .looseObject({ s3BucketDetails: z.array(z.looseObject({})) })
    .parse(event.detail.resource).s3BucketDetails;
  if (details === undefined || others.length > 0) {
    throw new Error('guardduty-s3-public.json must name exactly one bucket');
  }
  return {
    ...event,
    detail: {
      ...event.detail,
      resource: {
        ...event.detail.resource,
        s3BucketDetails: [{ ...details, arn: bucket.arn, name: bucket.name, tags: [] }],
      },
    },
  };
}

/** A DSPM product's Security Hub data-exposure finding: the bucket is readable by anyone. */
export function securityHubBucketFinding(
  bucket: PublicBucket,
  account: string,
  opts: FindingOptions = {},
) {
  return securityHub(
    'securityhub-s3-public.json',
    { id: bucket.arn, details: { AwsS3Bucket: { OwnerAccountId: account } } },
    opts,
  );
}
