import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jwtVerify, SignJWT } from 'jose';
import type { AuthInfo } from '../api/auth-types.js';
import { EtcdError, GrpcCode } from '../api/errors.js';
import type { Clock } from '../ports/clock.js';
import type { AuthTokenOption, JwtSignMethod } from './auth-token-option.js';
import type { TokenProvider } from './token-provider.js';

type JwtOption = Extract<AuthTokenOption, { kind: 'jwt' }>;

interface JwtKeys {
  readonly verify: KeyObject;
  /** Absent on a member given only the public key: it verifies, it does not issue. */
  readonly sign?: KeyObject;
}

/** Reads the key files `--auth-token` names; a missing or unreadable key is an Error naming the file. */
export function loadJwtKeys(option: JwtOption): JwtKeys {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`jwt ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  };
  const parse = <T>(what: string, path: string, make: () => T): T => {
    try {
      return make();
    } catch (err) {
      throw new Error(`jwt ${what} ${path} is not a usable ${option.signMethod} key: ${(err as Error).message}`, { cause: err });
    }
  };
  if (option.signMethod.startsWith('HS')) {
    const secret = read(option.privateKeyPath!, 'priv-key');
    const key = createSecretKey(secret);
    return { verify: key, sign: key };
  }
  const publicPem = read(option.publicKeyPath!, 'pub-key');
  const verify = parse('pub-key', option.publicKeyPath!, () => checkedKind(createPublicKey(publicPem), option.signMethod));
  if (option.privateKeyPath === undefined) return { verify };
  const privatePem = read(option.privateKeyPath, 'priv-key');
  const sign = parse('priv-key', option.privateKeyPath, () => checkedKind(createPrivateKey(privatePem), option.signMethod));
  return { verify, sign };
}

/** The key types each family of sign methods signs with: a mismatch is found at start, not at the first Authenticate. */
const KEY_TYPES: Readonly<Record<string, readonly string[]>> = { RS: ['rsa'], PS: ['rsa', 'rsa-pss'], ES: ['ec'], Ed: ['ed25519', 'ed448'] };

function checkedKind(key: KeyObject, method: JwtSignMethod): KeyObject {
  const expected = KEY_TYPES[method.slice(0, 2)] ?? [];
  if (!expected.includes(key.asymmetricKeyType ?? '')) throw new Error(`it is a ${key.asymmetricKeyType ?? 'secret'} key`);
  return key;
}

/**
 * etcd's JWT tokens: claims `username`, `revision` (the auth revision at issue) and `exp`, signed
 * with `sign-method`. Any member with the public key verifies them; a token issued before the auth
 * store changed is refused at use with "revision of auth store is old", as etcd does.
 */
export class JwtTokenProvider implements TokenProvider {
  readonly kind = 'jwt';
  private readonly algorithm: JwtSignMethod;
  private readonly ttlSeconds: number;

  constructor(
    option: JwtOption,
    private readonly keys: JwtKeys,
    private readonly clock: Pick<Clock, 'epochMs'>,
  ) {
    this.algorithm = option.signMethod;
    this.ttlSeconds = Math.max(1, Math.round(option.ttlMs / 1000));
  }

  prefix(): string {
    return '';
  }

  assignAtApply(): undefined {
    return undefined;
  }

  async sign(username: string, revision: number): Promise<string> {
    if (this.keys.sign === undefined) throw new EtcdError(GrpcCode.Unknown, 'auth: token signing attempted with verify-only key');
    const now = Math.floor(this.clock.epochMs() / 1000);
    return new SignJWT({ username, revision })
      .setProtectedHeader({ alg: this.algorithm })
      .setExpirationTime(now + this.ttlSeconds)
      .sign(this.keys.sign);
  }

  async info(token: string): Promise<AuthInfo | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.keys.verify, {
        algorithms: [this.algorithm],
        currentDate: new Date(this.clock.epochMs()),
        requiredClaims: ['exp'],
      });
      const { username, revision } = payload as { username?: unknown; revision?: unknown };
      if (typeof username !== 'string' || typeof revision !== 'number' || !Number.isSafeInteger(revision)) return undefined;
      return { username, revision };
    } catch {
      return undefined;
    }
  }

  invalidateUser(): void {}

  disable(): void {}
}
