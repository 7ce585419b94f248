import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CordonConfig } from './config.js';
import { Cordon } from './cordon.js';

export interface CordonStackProps extends StackProps {
  readonly config: CordonConfig;
}

/** The default deployment: one stack holding one Cordon. */
export class CordonStack extends Stack {
  readonly cordon: Cordon;

  constructor(scope: Construct, id: string, props: CordonStackProps) {
    super(scope, id, props);
    this.cordon = new Cordon(this, 'Cordon', { config: props.config });
  }
}
