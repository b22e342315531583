/** etcd's `--auth-token` value, parsed: 'simple', or 'jwt,pub-key=<file>,priv-key=<file>,sign-method=<alg>,ttl=<duration>'. */
export type AuthTokenOption =
  | { readonly kind: 'simple' }
  | {
      readonly kind: 'jwt';
      readonly signMethod: JwtSignMethod;
      readonly publicKeyPath?: string;
      readonly privateKeyPath?: string;
      /** How long a token is valid after it was issued (etcd's default: 5 minutes). */
      readonly ttlMs: number;
    };

/** The sign methods etcd accepts (jwt-go's names, which JOSE's `alg` names match). */
export const JWT_SIGN_METHODS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512'] as const;
export type JwtSignMethod = (typeof JWT_SIGN_METHODS)[number];

const DEFAULT_JWT_TTL_MS = 5 * 60 * 1000;
const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("5m", "1h30m", "90s") in milliseconds. */
export function parseGoDuration(text: string): number {
  // Go's time.ParseDuration takes a bare "0" (no unit) as zero.
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let offset = 0;
  while (offset < text.length) {
    part.lastIndex = offset;
    const match = part.exec(text);
    if (match === null) throw new Error(`invalid duration "${text}"`);
    total += Number(match[1]) * DURATION_UNITS[match[2]!]!;
    offset = part.lastIndex;
  }
  if (text.length === 0) throw new Error('empty duration');
  return total;
}

/** Parses `--auth-token`; an Error names what is wrong (the assembly reports it as a config error). */
export function parseAuthTokenOption(value: string): AuthTokenOption {
  const [kind, ...pairs] = value.split(',');
  if (kind === 'simple' && pairs.length === 0) return { kind: 'simple' };
  if (kind !== 'jwt') throw new Error(`unknown token type "${value}" (expected "simple" or "jwt,...")`);
  const options = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`jwt option "${pair}" is not key=value`);
    const key = pair.slice(0, eq);
    if (!['pub-key', 'priv-key', 'sign-method', 'ttl'].includes(key)) throw new Error(`unknown jwt option "${key}"`);
    options.set(key, pair.slice(eq + 1));
  }
  const signMethod = options.get('sign-method');
  if (signMethod === undefined) throw new Error('jwt needs sign-method');
  if (!(JWT_SIGN_METHODS as readonly string[]).includes(signMethod))
    throw new Error(`jwt sign-method "${signMethod}" is not one of ${JWT_SIGN_METHODS.join(', ')}`);
  const publicKeyPath = options.get('pub-key');
  const privateKeyPath = options.get('priv-key');
  if (signMethod.startsWith('HS')) {
    if (privateKeyPath === undefined) throw new Error(`jwt sign-method ${signMethod} needs priv-key (the shared secret)`);
  } else if (publicKeyPath === undefined) throw new Error(`jwt sign-method ${signMethod} needs pub-key`);
  const ttl = options.get('ttl');
  const ttlMs = ttl === undefined ? DEFAULT_JWT_TTL_MS : parseGoDuration(ttl);
  if (!(ttlMs > 0)) throw new Error('jwt ttl must be positive');
  return {
    kind: 'jwt',
    signMethod: signMethod as JwtSignMethod,
    ttlMs,
    ...(publicKeyPath === undefined ? {} : { publicKeyPath }),
    ...(privateKeyPath === undefined ? {} : { privateKeyPath }),
  };
}
