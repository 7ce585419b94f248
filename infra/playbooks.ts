import type { PlaybookName } from '../functions/shared/catalog.js';
import type { CordonConfig } from './config.js';
import type { PlaybookTrigger } from './constructs/playbook.js';
import {
  attackSequenceTriggers,
  ec2InstanceTriggers,
  iamCredentialsTriggers,
  integrationQuarantineTriggers,
  s3ExposureTriggers,
  secretExposureTriggers,
} from './constructs/triggers.js';

export interface PlaybookSpec {
  /** Construct id: part of the deployed resource names, keep stable. */
  readonly id: string;
  readonly triggers: (config: CordonConfig) => PlaybookTrigger[];
}

/** Every playbook Cordon deploys and the rules that start it; its states come from the catalog. */
export const PLAYBOOK_SPECS: Readonly<Record<PlaybookName, PlaybookSpec>> = {
  'iam-credentials': { id: 'IamCredentials', triggers: iamCredentialsTriggers },
  'ec2-instance': { id: 'Ec2Instance', triggers: ec2InstanceTriggers },
  'secret-exposure': { id: 'SecretExposure', triggers: secretExposureTriggers },
  'integration-quarantine': {
    id: 'IntegrationQuarantine',
    triggers: integrationQuarantineTriggers,
  },
  's3-exposure': { id: 'S3Exposure', triggers: s3ExposureTriggers },
  'attack-sequence': { id: 'AttackSequence', triggers: attackSequenceTriggers },
};
