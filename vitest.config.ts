import { defineConfig } from 'vitest/config';

/**
 * Two projects, one command (`npm test` = `vitest run`):
 * - unit: every test/**\/*.test.ts except the integration ones, two workers.
 * - integration: test/integration/** and test/**\/*.integration.test.ts. Its
 *   global setup starts ONE moto server for the run (test/support/global-setup.ts)
 *   and `useMoto()` resets that server before each test. A reset wipes the whole
 *   server, so these files run one at a time (maxWorkers 1), after the unit files.
 *   A plain `vitest run test/functions` starts no emulator.
 */
const integration = ['test/integration/**/*.test.ts', 'test/**/*.integration.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    setupFiles: ['test/support/setup-env.ts'],
    // Safe defaults for every test; test/support/setup-env.ts removes inherited
    // credentials and endpoints. Nothing here points at moto: integration tests
    // opt in with useMoto().
    env: {
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      CDK_DISABLE_VERSION_CHECK: 'true',
      // Node 20 is this project's toolchain on purpose (engines: >=20.19); the SDK's
      // "will require Node 22 from 2027" warning would only add noise to every run.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...integration],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: integration,
          globalSetup: ['test/support/global-setup.ts'],
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
