import { BootstraplessSynthesizer, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  CordonRegionForwarder,
  type CordonRegionForwarderProps,
} from './constructs/region-forwarder.js';

export interface CordonRegionForwarderStackProps
  extends Omit<StackProps, 'synthesizer'>,
    CordonRegionForwarderProps {}

/**
 * Organization-wide, one region's forwarder as a stack of its own, in the
 * hub account: deploy one in each region of `organization.regions` other
 * than the hub's (the Cordon app adds them itself when the `organization`
 * key lists such regions). `env.region` is the region it forwards from.
 * Rules, a role and a queue only, synthesized without CDK's bootstrap check
 * (no asset), so a region need not be bootstrapped to receive one.
 */
export class CordonRegionForwarderStack extends Stack {
  readonly forwarder: CordonRegionForwarder;

  constructor(scope: Construct, id: string, props: CordonRegionForwarderStackProps) {
    const { hubRegion, forwardSecurityHub, ...stackProps } = props;
    super(scope, id, {
      analyticsReporting: false,
      description: "Cordon: forwards this region's findings to the hub's region",
      ...stackProps,
      synthesizer: new BootstraplessSynthesizer(),
    });
    this.forwarder = new CordonRegionForwarder(this, 'Forwarder', {
      hubRegion,
      ...(forwardSecurityHub === undefined ? {} : { forwardSecurityHub }),
    });
  }
}
