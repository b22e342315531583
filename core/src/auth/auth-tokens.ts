import type { Clock } from '../ports/clock.js';
import type { MemberSettings } from '../ports/member-settings.js';
import { parseAuthTokenOption } from './auth-token-option.js';
import { JwtTokenProvider, loadJwtKeys } from './jwt-token-provider.js';
import { SimpleTokenProvider } from './simple-token-provider.js';
import type { TokenProvider } from './token-provider.js';

/** The token provider `--auth-token` names; throws an Error naming the problem (a bad value, an unreadable key). */
export function createTokenProvider(settings: Pick<MemberSettings, 'authToken' | 'authTokenTtlSeconds'>, clock: Clock): TokenProvider {
  const option = parseAuthTokenOption(settings.authToken);
  if (option.kind === 'simple') return new SimpleTokenProvider(clock, settings.authTokenTtlSeconds * 1000);
  return new JwtTokenProvider(option, loadJwtKeys(option), clock);
}
