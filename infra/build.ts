import type { App } from 'aws-cdk-lib';
import { parseConfig } from './config.js';
import { CordonStack } from './stack.js';

export const STACK_NAME = 'Cordon';

/**
 * Adds the default Cordon stack to `app`, configured from the `cordon`
 * context key. Shared by `cdk synth`, the rehearsal engine and the tests,
 * so all three run the same definitions.
 */
export function buildApp(app: App): CordonStack {
  const config = parseConfig(app.node.tryGetContext('cordon'));
  const account = config.account ?? process.env.CDK_DEFAULT_ACCOUNT;
  const region = config.region ?? process.env.CDK_DEFAULT_REGION;
  return new CordonStack(app, STACK_NAME, {
    config,
    description: 'Cordon: scoped, overseen, auditable containment for AWS',
    ...(account || region ? { env: { account, region } } : {}),
  });
}
