import {
  DeletePublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { s3ClientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { InvalidTaskInputError } from '../../shared/errors.js';
import type { Bucket } from '../../shared/incident.js';
import { accountOf, type RollbackInput, type RollbackResult } from '../../shared/rollback.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { rollbackNameOf } from '../definition.js';
import { rollbackHandler } from '../handlers.js';
import { differs, type Rollback, type RollbackDeps, runRollback } from '../rollback.js';
import { action } from './action.js';
import { type BlockState, BlockStateSchema, BUCKET_ARN, readPublicAccessBlock } from './state.js';

export interface RollbackPublicAccessDeps extends RollbackDeps {
  readonly s3: S3Client;
}

const NAME = rollbackNameOf(action.name);

/**
 * Puts back the bucket's recorded public access block, or deletes the block
 * when it had none. Every call carries ExpectedBucketOwner, as containment's do.
 */
export function publicAccessRollback(s3: S3Client, account: string): Rollback<Bucket, BlockState> {
  return {
    action: NAME,
    undoes: action.name,
    state: BlockStateSchema,
    target(entry) {
      const arn = entry.targetArn ?? '';
      const name = BUCKET_ARN.exec(arn)?.[1];
      if (name === undefined) {
        throw new InvalidTaskInputError(`${NAME}: ${JSON.stringify(arn)} is not a bucket ARN`);
      }
      return { name, arn };
    },
    read: (target) => readPublicAccessBlock(s3, account, target),
    drift: (current, after) =>
      differs('its public access block', current.configuration, after.configuration),
    isRestored: (current, before) =>
      JSON.stringify(current.configuration) === JSON.stringify(before.configuration),
    describe: ({ name }, before) =>
      before.configuration === null
        ? `delete the public access block of bucket ${name} (it had none): public ACLs and policies apply again`
        : `put back the public access block bucket ${name} had (${Object.entries(
            before.configuration,
          )
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}): public ACLs and policies it allows apply again`,
    async restore({ name }, before) {
      if (before.configuration === null) {
        await s3.send(
          new DeletePublicAccessBlockCommand({ Bucket: name, ExpectedBucketOwner: account }),
        );
      } else {
        await s3.send(
          new PutPublicAccessBlockCommand({
            Bucket: name,
            ExpectedBucketOwner: account,
            PublicAccessBlockConfiguration: { ...before.configuration },
          }),
        );
      }
      return { configuration: before.configuration };
    },
  };
}

export function rollbackPublicAccess(
  input: RollbackInput,
  deps: RollbackPublicAccessDeps,
): Promise<RollbackResult> {
  return runRollback(
    input,
    publicAccessRollback(deps.s3, deps.place?.account ?? accountOf(deps.actor)),
    deps,
  );
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({ s3: new S3Client({ ...s3ClientOptions(), ...config }) });

export function makeRollbackHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, NAME, placed),
) {
  return rollbackHandler(env, NAME, clients, rollbackPublicAccess);
}
