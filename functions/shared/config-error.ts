/** A function was deployed or started with configuration it cannot use. */
export class ConfigError extends Error {
  override readonly name = 'Cordon.ConfigError';
}
