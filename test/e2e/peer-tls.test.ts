import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { TestCertificates, type TestAuthority, type TestCertificate } from '@cairn/core/testkit';
import { skipWithoutEtcdctl } from '../compat/processes.js';
import { initialCluster, ProcessCluster, type MemberSpec, type PeerTransport } from './cluster-processes.js';
import { eventually, memberList, sleep } from './cluster-scenarios.js';

/**
 * A 3-member cluster of real `cairn` processes whose members talk over TLS through etcd's peer
 * flags (https:// peer URLs, --peer-cert-file, --peer-key-file, --peer-trusted-ca-file,
 * --peer-client-cert-auth), driven by the real etcdctl; then a member whose certificate another
 * CA signed is added and refused by every founder at the handshake.
 */
describe('a 3-member cluster with peer TLS (real processes)', function () {
  this.timeout(180_000);
  let dir: string | undefined;
  let certs: TestCertificates | undefined;
  let cluster: ProcessCluster | undefined;
  let ca: TestAuthority;
  /** Who signs each member's peer certificate: our CA unless the test says otherwise. */
  const signer = new Map<string, TestAuthority>();
  const issued = new Map<string, TestCertificate>();

  const peerUrl = (spec: MemberSpec): string => `https://127.0.0.1:${spec.peerPort}`;
  const tlsPeers: PeerTransport = {
    peerUrl,
    args(spec) {
      let cert = issued.get(spec.name);
      if (cert === undefined) {
        cert = certs!.issue(signer.get(spec.name) ?? ca, spec.name, { hosts: ['127.0.0.1'] });
        issued.set(spec.name, cert);
      }
      // Every member trusts our CA only, and requires peers to show a certificate it signed.
      return [
        '--listen-peer-urls',
        peerUrl(spec),
        '--peer-cert-file',
        cert.certFile,
        '--peer-key-file',
        cert.keyFile,
        '--peer-trusted-ca-file',
        ca.caFile,
        '--peer-client-cert-auth',
      ];
    },
  };

  before(async function () {
    skipWithoutEtcdctl(this);
    dir = await mkdtemp(join(tmpdir(), 'cairn-peer-tls-'));
    certs = new TestCertificates();
    ca = certs.authority('peer-ca');
    cluster = await ProcessCluster.start('cairn', dir, 3, { transport: tlsPeers });
  });
  after(async () => {
    await cluster?.stop();
    certs?.remove();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('forms over TLS and serves a put on one member and a get on another', async () => {
    const leader = await cluster!.leader(30_000);
    const [m1, m2, m3] = cluster!.members;
    const put = await m1!.etcdctl(['put', 'tls/greeting', 'hello']);
    expect(put.code, put.stderr).to.equal(0);
    for (const m of [m2!, m3!]) expect((await m.etcdctl(['get', 'tls/greeting', '--print-value-only'])).stdout).to.equal('hello\n');
    const listed = await memberList(leader);
    expect(listed.map((m) => m.peerUrl).sort()).to.deep.equal(cluster!.members.map((m) => peerUrl(m.spec)).sort());
    for (const m of cluster!.members) expect(m.log()).to.not.match(/refused a peer connection/);
  });

  it('a member added with a certificate of another CA is refused at the handshake, logged, and never joins; the cluster stays healthy', async () => {
    const leader = await cluster!.leader();
    const founders = cluster!.members.slice(0, 3);
    signer.set('m4', certs!.authority('foreign-ca'));
    const joiner = await cluster!.joiner('m4', (self) => initialCluster([...founders.map((m) => m.spec), self], tlsPeers));
    const added = await leader.etcdctl(['member', 'add', 'm4', `--peer-urls=${peerUrl(joiner.spec)}`]);
    expect(added.code, added.stderr).to.equal(0);
    const id = /Member ([0-9a-f]+) added/.exec(added.stdout)?.[1];
    expect(id, added.stdout).to.not.equal(undefined);
    await joiner.start([], false);

    await eventually('a founder refuses m4 at the TLS handshake', 30_000, async () =>
      founders.some((m) => /refused a peer connection at the TLS handshake/.test(m.log())),
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- m4:\n${joiner.log().slice(-3000)}\n--- m1:\n${founders[0]!.log().slice(-3000)}`);
    });
    const refusal = founders
      .map((m) => m.log())
      .join('\n')
      .split('\n')
      .find((l) => l.includes('refused a peer connection at the TLS handshake'));
    expect(refusal).to.match(/peer certificate refused|certificate/);
    // Give it time to try: it stays unstarted in the member list, and out of the data.
    await sleep(3_000);
    const listed = (await memberList(leader)).find((m) => m.id === id);
    expect(listed, 'm4 stays in the member list as added').to.not.equal(undefined);
    expect(listed!.name, 'm4 never started as a member (etcdctl shows it unstarted)').to.equal('');
    expect(listed!.clientUrl).to.equal('');
    for (const m of founders) {
      const r = await m.etcdctl(['put', `after-stranger/${m.spec.name}`, 'ok']);
      expect(r.code, `${m.spec.name}: ${r.stderr}`).to.equal(0);
      const health = await m.etcdctl(['endpoint', 'health']);
      expect(health.code, health.stderr).to.equal(0);
    }
    // The stranger never got the data (a serializable read on it finds nothing, or it does not serve).
    const local = await joiner.etcdctl(['get', 'tls/greeting', '--consistency=s', '--print-value-only', '--command-timeout=3s']);
    expect(local.stdout).to.equal('');
    await joiner.stop();
  });
});
