import { parseAuthTokenOption } from '../auth/auth-token-option.js';
import { loadJwtKeys } from '../auth/jwt-token-provider.js';
import { ConfigError } from './config-error.js';
import type { CairnConfig } from './config-schema.js';

/** `--auth-token` names a known token type with usable keys: a bad value stops the start with one clear line. */
export function checkAuthToken(config: Pick<CairnConfig, 'auth-token'>): void {
  try {
    const option = parseAuthTokenOption(config['auth-token']);
    if (option.kind === 'jwt') loadJwtKeys(option);
  } catch (err) {
    throw new ConfigError(`config: auth-token: ${(err as Error).message}`, { cause: err });
  }
}
