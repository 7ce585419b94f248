import type { Duration } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { PlaybookName } from '../functions/shared/catalog.js';
import { ec2InstanceDefinition } from '../state-machines/ec2-instance.js';
import { iamCredentialsDefinition } from '../state-machines/iam-credentials.js';
import { integrationQuarantineDefinition } from '../state-machines/integration-quarantine.js';
import { s3ExposureDefinition } from '../state-machines/s3-exposure.js';
import { secretExposureDefinition } from '../state-machines/secret-exposure.js';
import type { PlaybookFunctions } from '../state-machines/tasks.js';
import type { CordonConfig } from './config.js';
import type { PlaybookTrigger } from './constructs/playbook.js';
import {
  ec2InstanceTriggers,
  iamCredentialsTriggers,
  integrationQuarantineTriggers,
  s3ExposureTriggers,
  secretExposureTriggers,
} from './constructs/triggers.js';

interface BuildProps {
  readonly functions: PlaybookFunctions;
  readonly approvalTimeout: Duration;
}

export interface PlaybookSpec {
  /** Construct id: part of the deployed resource names, keep stable. */
  readonly id: string;
  readonly definition: (scope: Construct, props: BuildProps) => sfn.IChainable;
  readonly triggers: (config: CordonConfig) => PlaybookTrigger[];
}

/** Every playbook Cordon deploys: its builder and the rules that start it. */
export const PLAYBOOK_SPECS: Readonly<Record<PlaybookName, PlaybookSpec>> = {
  'iam-credentials': {
    id: 'IamCredentials',
    definition: iamCredentialsDefinition,
    triggers: iamCredentialsTriggers,
  },
  'ec2-instance': {
    id: 'Ec2Instance',
    definition: ec2InstanceDefinition,
    triggers: ec2InstanceTriggers,
  },
  'secret-exposure': {
    id: 'SecretExposure',
    definition: secretExposureDefinition,
    triggers: secretExposureTriggers,
  },
  'integration-quarantine': {
    id: 'IntegrationQuarantine',
    definition: integrationQuarantineDefinition,
    triggers: integrationQuarantineTriggers,
  },
  's3-exposure': {
    id: 'S3Exposure',
    definition: s3ExposureDefinition,
    triggers: s3ExposureTriggers,
  },
};
