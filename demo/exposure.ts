import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientOptions } from '../functions/shared/aws.js';

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
