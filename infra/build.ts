import type { App } from 'aws-cdk-lib';
import { type CordonConfig, parseConfig } from './config.js';
import { CordonRegionForwarderStack } from './forwarder-stack.js';
import { CordonStack } from './stack.js';

export const STACK_NAME = 'Cordon';

/** The stack forwarding `region`'s findings to the hub (`buildApp`). */
export const forwarderStackName = (region: string) => `${STACK_NAME}Forwarder-${region}`;

/**
 * Adds the default Cordon stack to `app`, configured from the `cordon`
 * context key. Shared by `cdk synth`, the rehearsal engine and the tests,
 * so all three run the same definitions. Organization-wide, it adds a
 * forwarder stack in each of `organization.regions` other than the hub's:
 * GuardDuty publishes findings in their own region only.
 */
export function buildApp(app: App): CordonStack {
  const config = parseConfig(app.node.tryGetContext('cordon'));
  const account = config.account ?? process.env.CDK_DEFAULT_ACCOUNT;
  const region = config.region ?? process.env.CDK_DEFAULT_REGION;
  const hub = new CordonStack(app, STACK_NAME, {
    config,
    description: 'Cordon: scoped, overseen, auditable containment for AWS',
    ...(account || region ? { env: { account, region } } : {}),
  });
  for (const other of forwardedRegions(config, hub.region)) {
    new CordonRegionForwarderStack(app, forwarderStackName(other), {
      env: { ...(account ? { account } : {}), region: other },
      hubRegion: hub.region,
    });
  }
  return hub;
}

/** The regions whose findings must be forwarded to the hub's: every configured one but its own. */
function forwardedRegions(config: CordonConfig, hubRegion: string): string[] {
  return (config.organization?.regions ?? []).filter((r) => r !== hubRegion);
}
