/**
 * Runs in every test worker before each test file (vitest `setupFiles`).
 * vitest.config.ts sets the safe defaults (`test.env`); this removes what a
 * developer's shell may carry and no test should inherit: a session token or
 * profile that would pair real identity with the test keys, and an endpoint
 * that would send unit tests to an emulator (integration tests opt in with
 * `useMoto()`).
 */
const inherited = [
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'POWERTOOLS_DEV',
];

for (const name of Object.keys(process.env)) {
  if (inherited.includes(name) || name.startsWith('AWS_ENDPOINT_URL')) delete process.env[name];
}
