/** A configuration problem: printed as one line naming the key, and the process exits with code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly exitCode = 2;
}
