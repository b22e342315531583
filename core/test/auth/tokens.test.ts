import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAuthTokenOption } from '../../src/auth/auth-token-option.js';
import { createTokenProvider } from '../../src/auth/auth-tokens.js';
import { JwtTokenProvider, loadJwtKeys } from '../../src/auth/jwt-token-provider.js';
import { SimpleTokenProvider } from '../../src/auth/simple-token-provider.js';
import { checkAuthToken } from '../../src/assembly/auth-token-config.js';
import type { Clock } from '../../src/ports/clock.js';
import { TemporaryDirectories, rejection } from '../../src/testkit/temporary-directories.js';

class ManualClock implements Clock {
  time = 1_000_000;
  now(): number {
    return this.time;
  }
  epochMs(): number {
    return 1_700_000_000_000 + this.time;
  }
  setTimeout(): never {
    throw new Error('not used');
  }
  setInterval(): never {
    throw new Error('not used');
  }
}

describe('auth tokens', () => {
  const dirs = new TemporaryDirectories('cairn-auth-tokens');
  after(() => dirs.removeAll());

  async function keyFiles(kind: 'rsa' | 'ec' | 'ed25519') {
    const dir = await dirs.make();
    const pair =
      kind === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : kind === 'ec'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : generateKeyPairSync('ed25519');
    const pub = join(dir, `${kind}.pub`);
    const priv = join(dir, `${kind}.key`);
    writeFileSync(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(priv, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    return { pub, priv };
  }

  describe('simple', () => {
    it('is 16 letters, a dot and the Raft index, and lives its TTL after its last use', async () => {
      const clock = new ManualClock();
      const tokens = new SimpleTokenProvider(clock, 300_000);
      const prefix = tokens.prefix();
      expect(prefix).to.match(/^[a-zA-Z]{16}$/);
      const token = tokens.assignAtApply(prefix, 42, 'alice');
      expect(token).to.equal(`${prefix}.42`);
      expect(await tokens.info(token, 7)).to.deep.equal({ username: 'alice', revision: 7 });
      clock.time += 299_000;
      // A use renews it.
      expect(await tokens.info(token, 7)).to.not.equal(undefined);
      clock.time += 299_000;
      expect(await tokens.info(token, 7)).to.not.equal(undefined);
      clock.time += 300_000;
      expect(await tokens.info(token, 7)).to.equal(undefined);
      expect(await tokens.info('made-up.1', 7)).to.equal(undefined);
    });

    it("drops a user's tokens when invalidated (deleted, password changed), and every token when auth is disabled", async () => {
      const tokens = new SimpleTokenProvider(new ManualClock(), 300_000);
      const a1 = tokens.assignAtApply(tokens.prefix(), 1, 'alice');
      const a2 = tokens.assignAtApply(tokens.prefix(), 2, 'alice');
      const b1 = tokens.assignAtApply(tokens.prefix(), 3, 'bob');
      tokens.invalidateUser('alice');
      expect(await tokens.info(a1, 1)).to.equal(undefined);
      expect(await tokens.info(a2, 1)).to.equal(undefined);
      expect((await tokens.info(b1, 1))?.username).to.equal('bob');
      tokens.disable();
      expect(await tokens.info(b1, 1)).to.equal(undefined);
      expect(tokens.size).to.equal(0);
    });
  });

  describe('JWT', () => {
    const provider = (value: string, clock = new ManualClock()) => {
      const option = parseAuthTokenOption(value);
      if (option.kind !== 'jwt') throw new Error('expected jwt');
      return new JwtTokenProvider(option, loadJwtKeys(option), clock);
    };

    it("carries etcd's claims (username, revision, exp) and is verified by a member holding only the public key", async () => {
      const { pub, priv } = await keyFiles('rsa');
      const clock = new ManualClock();
      const issuer = provider(`jwt,pub-key=${pub},priv-key=${priv},sign-method=RS256,ttl=5m`, clock);
      const token = await issuer.sign('alice', 12);
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      expect(claims).to.include({ username: 'alice', revision: 12 });
      expect(claims['exp']).to.equal(Math.floor(clock.epochMs() / 1000) + 300);
      const verifier = provider(`jwt,pub-key=${pub},sign-method=RS256`, clock);
      expect(await verifier.info(token)).to.deep.equal({ username: 'alice', revision: 12 });
      // A verify-only member cannot issue.
      expect((await rejection(verifier.sign('alice', 12))).message).to.equal('auth: token signing attempted with verify-only key');
      // Expired after its TTL.
      clock.time += 301_000;
      expect(await verifier.info(token)).to.equal(undefined);
    });

    it('refuses a token signed by another key, a forged payload, another algorithm and garbage', async () => {
      const mine = await keyFiles('ec');
      const theirs = await keyFiles('ec');
      const member = provider(`jwt,pub-key=${mine.pub},priv-key=${mine.priv},sign-method=ES256`);
      const other = provider(`jwt,pub-key=${theirs.pub},priv-key=${theirs.priv},sign-method=ES256`);
      expect(await member.info(await other.sign('root', 1))).to.equal(undefined);
      const genuine = await member.sign('alice', 1);
      const [head, , signature] = genuine.split('.');
      const forgedPayload = Buffer.from(JSON.stringify({ username: 'root', revision: 1, exp: 9_999_999_999 })).toString('base64url');
      expect(await member.info(`${head}.${forgedPayload}.${signature}`)).to.equal(undefined);
      const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${forgedPayload}.`;
      expect(await member.info(unsigned)).to.equal(undefined);
      expect(await member.info('not-a-jwt')).to.equal(undefined);
      expect(await member.info(genuine)).to.deep.equal({ username: 'alice', revision: 1 });
    });

    it('signs with EdDSA and HMAC too', async () => {
      const ed = await keyFiles('ed25519');
      const eddsa = provider(`jwt,pub-key=${ed.pub},priv-key=${ed.priv},sign-method=EdDSA`);
      expect(await eddsa.info(await eddsa.sign('u', 3))).to.deep.equal({ username: 'u', revision: 3 });
      const secret = join(await dirs.make(), 'secret');
      writeFileSync(secret, 'a shared secret of enough length for HS256!');
      const hmac = provider(`jwt,priv-key=${secret},sign-method=HS256`);
      expect(await hmac.info(await hmac.sign('u', 4))).to.deep.equal({ username: 'u', revision: 4 });
    });
  });

  it('makes a bad --auth-token a config error naming the problem', async () => {
    const message = (value: string): string => {
      try {
        checkAuthToken({ 'auth-token': value });
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(message('simple')).to.equal('accepted');
    expect(message('simpel')).to.equal('config: auth-token: unknown token type "simpel" (expected "simple" or "jwt,...")');
    expect(message('jwt,pub-key=/x')).to.equal('config: auth-token: jwt needs sign-method');
    expect(message('jwt,pub-key=/x,sign-method=RS1')).to.match(/sign-method "RS1" is not one of RS256/);
    expect(message('jwt,sign-method=RS256')).to.equal('config: auth-token: jwt sign-method RS256 needs pub-key');
    expect(message('jwt,pub-key=/no/such/file,sign-method=RS256')).to.equal('config: auth-token: jwt pub-key /no/such/file: ENOENT');
    expect(message('jwt,pub-key=/x,sign-method=RS256,ttl=5x')).to.equal('config: auth-token: invalid duration "5x"');
    const { pub } = await keyFiles('rsa');
    expect(message(`jwt,pub-key=${pub},sign-method=RS256,ttl=1h30m`)).to.equal('accepted');
    expect(message(`jwt,pub-key=${pub},sign-method=ES256`)).to.equal(`config: auth-token: jwt pub-key ${pub} is not a usable ES256 key: it is a rsa key`);
    expect(createTokenProvider({ authToken: 'simple', authTokenTtlSeconds: 1 }, new ManualClock()).kind).to.equal('simple');
  });
});
