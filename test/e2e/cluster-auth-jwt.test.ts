import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcCaller } from '../compat/auth-callers.js';
import { FAST_BCRYPT, ROOT_AND_ALICE } from '../compat/auth-servers.js';
import { skipWithoutEtcdctl } from '../compat/processes.js';
import { ProcessCluster, type MemberProcess } from './cluster-processes.js';
import { eventually } from './cluster-scenarios.js';

const RANGE_APP_X = { key: Buffer.from('app/x').toString('base64') };
const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An RS256 key pair as PEM files, made with openssl in `dir`. */
function rsaKeyPair(dir: string, name: string): { privateKey: string; publicKey: string } {
  const privateKey = join(dir, `${name}.key`);
  const publicKey = join(dir, `${name}.pub`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', privateKey], { stdio: 'pipe' });
  execFileSync('openssl', ['pkey', '-in', privateKey, '-pubout', '-out', publicKey], { stdio: 'pipe' });
  return { privateKey, publicKey };
}

/** A JWT with `claims`, signed RS256 by `privateKeyPem` (here: a key the cluster does not know). */
function signedJwt(claims: object, privateKeyPem: string): string {
  const unsigned = `${base64url({ alg: 'RS256', typ: 'JWT' })}.${base64url(claims)}`;
  return `${unsigned}.${sign('sha256', Buffer.from(unsigned), createPrivateKey(privateKeyPem)).toString('base64url')}`;
}

/**
 * `--auth-token jwt,...` on a 3-member cluster of real cairn processes: a token signed by one member
 * is verified by the others (they hold the same public key), and a token of the same claims signed
 * by another key is refused everywhere with etcd's "invalid auth token".
 */
describe('auth with JWT tokens on a 3-member cluster', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: ProcessCluster | undefined;
  const callers: GrpcCaller[] = [];

  before(async function () {
    skipWithoutEtcdctl(this);
    dir = await mkdtemp(join(tmpdir(), 'cairn-cluster-jwt-'));
    const keys = rsaKeyPair(dir, 'cluster');
    const tokenFlag = `jwt,pub-key=${keys.publicKey},priv-key=${keys.privateKey},sign-method=RS256,ttl=5m`;
    cluster = await ProcessCluster.start('cairn', dir, 3, { extraArgs: [...FAST_BCRYPT, '--auth-token', tokenFlag] });
    await cluster.leader();
  });
  after(async () => {
    for (const c of callers) c.close();
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const grpcOn = (member: MemberProcess): GrpcCaller => {
    const caller = new GrpcCaller(member.endpoint);
    callers.push(caller);
    return caller;
  };

  it('a token signed by one member is good on every member; one signed by another key is refused everywhere', async () => {
    const [m1, m2, m3] = cluster!.members as [MemberProcess, MemberProcess, MemberProcess];
    for (const args of ROOT_AND_ALICE) {
      const r = await m1.etcdctl(args);
      expect(r.code, `etcdctl ${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(0);
    }

    const token = await grpcOn(m1).authenticate('alice', 'alice-pw');
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>);
    expect(header).to.include({ alg: 'RS256' });
    expect(payload).to.include({ username: 'alice' });
    expect(payload!['revision']).to.be.a('number');
    expect(payload!['exp']).to.be.a('number');

    const stranger = rsaKeyPair(dir, 'stranger');
    const forged = signedJwt(payload!, await readFile(stranger.privateKey, 'utf8'));
    for (const member of [m1, m2, m3]) {
      const caller = grpcOn(member);
      // Followers apply the auth changes a moment after the leader answered.
      await eventually(
        `${member.spec.name} takes alice's token`,
        10_000,
        async () => (await caller.withToken(token).unary('KV', 'Range', RANGE_APP_X)) === 'ok',
      );
      expect(await caller.withToken(forged).unary('KV', 'Range', RANGE_APP_X), `the forged token on ${member.spec.name}`).to.equal(
        'error 16 etcdserver: invalid auth token',
      );
      // etcdctl authenticates with the member it talks to and uses that member's JWT.
      const put = await member.etcdctl(['--user', 'alice:alice-pw', 'put', 'app/x', member.spec.name]);
      expect(put.code, put.stderr).to.equal(0);
    }
  });
});
