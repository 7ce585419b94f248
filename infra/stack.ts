import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CordonSettings } from './config.js';
import { Cordon } from './cordon.js';

export interface CordonStackProps extends StackProps {
  /**
   * Cordon's settings, as `CordonProps.config`.
   * @default every setting at its default (see `CordonProps.config`)
   */
  readonly config?: CordonSettings;
}

/** The default deployment: one stack holding one Cordon. */
export class CordonStack extends Stack {
  readonly cordon: Cordon;

  constructor(scope: Construct, id: string, props: CordonStackProps = {}) {
    super(scope, id, props);
    this.cordon = new Cordon(this, 'Cordon', { config: props.config });
  }
}
