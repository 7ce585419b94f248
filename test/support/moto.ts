/**
 * Integration tests against the run's moto server.
 *
 * A test file opts in by calling `useMoto()` at its top level. For that file it
 * points the SDK at moto (`AWS_ENDPOINT_URL`, restored afterwards) and wipes
 * moto's state before every test, so each test starts from an empty account.
 * Only files of the `integration` project get a moto server (see
 * vitest.config.ts): `test/integration/**` and `test/**\/*.integration.test.ts`.
 * They run one file at a time, because a reset wipes the whole server.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import { resetMoto } from '../../scripts/moto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT` of the run's moto server (integration project only). */
    motoEndpoint: string;
  }
}

export const MOTO_REGION = 'us-east-1';
/** The account moto reports for the default test credentials. */
export const MOTO_ACCOUNT_ID = '123456789012';

export interface MotoClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** Options for constructing an SDK v3 client against moto explicitly. */
export function motoClientConfig(endpoint: string): MotoClientConfig {
  return {
    endpoint,
    region: MOTO_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

/** The run's moto endpoint; a clear error outside the integration project. */
export function motoEndpoint(): string {
  const endpoint: string | undefined = inject('motoEndpoint');
  if (!endpoint) {
    throw new Error(
      'no moto server in this test project: tests that use moto belong in test/integration/ ' +
        'or in a file named *.integration.test.ts (see vitest.config.ts)',
    );
  }
  return endpoint;
}

/**
 * Point this test file at moto: sets `AWS_ENDPOINT_URL` for the file (restored
 * after it) and resets moto before each test. Call at the top level of a file.
 */
export function useMoto(): { endpoint: string } {
  const endpoint = motoEndpoint();
  let previous: string | undefined;
  beforeAll(() => {
    previous = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = endpoint;
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = previous;
  });
  beforeEach(async () => {
    await resetMoto(endpoint);
  });
  return { endpoint };
}

/**
 * An IAM client acting in `account`: moto answers AssumeRole into any role
 * of another account with credentials whose calls land in that account's
 * own state (it does not read trust policies).
 */
export async function iamInAccount(endpoint: string, account: string): Promise<IAMClient> {
  const sts = new STSClient(motoClientConfig(endpoint));
  const { Credentials } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/test-setup`,
      RoleSessionName: 'test-setup',
    }),
  );
  if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey) {
    throw new Error('moto returned no credentials');
  }
  return new IAMClient({
    ...motoClientConfig(endpoint),
    credentials: {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      sessionToken: Credentials.SessionToken,
    },
  });
}
