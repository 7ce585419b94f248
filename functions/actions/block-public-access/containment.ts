import { PutPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import { s3ClientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import {
  type ActionInput,
  type ActionResult,
  type Bucket,
  requireResource,
} from '../../shared/incident.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { type Containment, type ContainmentDeps, runContainment } from '../containment.js';
import { containmentHandler } from '../handlers.js';
import { action } from './action.js';
import {
  type BlockState,
  isBlocked,
  type PublicAccessBlock,
  readPublicAccessBlock,
} from './state.js';

export interface BlockPublicAccessDeps extends ContainmentDeps {
  readonly s3: S3Client;
}

const ALL_BLOCKED: PublicAccessBlock = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

/**
 * Turns on all four bucket-level public access block settings. Every call
 * carries ExpectedBucketOwner: a bucket of the same name in another account
 * (the incident's bucket deleted and its name taken) answers AccessDenied
 * instead of being changed.
 */
export function blockContainment(s3: S3Client, account: string): Containment<Bucket, BlockState> {
  return {
    action: action.name,
    target: (incident) => requireResource(incident, 'bucket', action.name),
    targetArn: (target) => target.arn,
    read: (target) => readPublicAccessBlock(s3, account, target),
    isContained: isBlocked,
    describe: (target, { configuration }) => {
      const off =
        configuration === null
          ? 'none is set'
          : `off now: ${Object.entries(configuration)
              .filter(([, on]) => !on)
              .map(([setting]) => setting)
              .join(', ')}`;
      return `turn on all four public access block settings of bucket ${target.name} (${off}); account-level settings are unchanged`;
    },
    async apply(target) {
      await s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: target.name,
          ExpectedBucketOwner: account,
          PublicAccessBlockConfiguration: { ...ALL_BLOCKED },
        }),
      );
      return { configuration: { ...ALL_BLOCKED } };
    },
  };
}

export function blockPublicAccess(
  input: ActionInput,
  deps: BlockPublicAccessDeps,
): Promise<ActionResult> {
  return runContainment(input, blockContainment(deps.s3, input.incident.account), deps);
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({ s3: new S3Client({ ...s3ClientOptions(), ...config }) });

export function makeHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, action.name, placed),
) {
  return containmentHandler(env, action.name, clients, blockPublicAccess);
}
