import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { expect } from 'chai';
import { FrameReader } from '../../src/authority/frame-reader.js';
import { HeaderBlockAssembler } from '../../src/authority/header-block-assembler.js';
import { HpackDecoder } from '../../src/authority/hpack-decoder.js';
import { CLIENT_PREFACE, isHeaderBlockOrSettingsFrame } from '../../src/authority/http2-frame.js';
import { startHarness, type Harness } from '../harness.js';

const ETCDCTL = '/usr/bin/etcdctl';

function etcdctl(endpoint: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      ETCDCTL,
      [`--endpoints=${endpoint}`, '--dial-timeout=3s', '--command-timeout=5s', ...args],
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 15_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : 1, stdout, stderr }),
    );
  });
}

/** One connection through the recording proxy: the `:authority` and `:path` of each request, in order. */
type Requests = { authority: string; path: string }[];

/** A TCP proxy in front of `port` that forwards bytes unchanged and decodes the requests of each connection. */
async function recordingProxy(port: number): Promise<{ port: number; connections: Requests[]; server: Server }> {
  const connections: Requests[] = [];
  const server = createServer((client) => {
    const requests: Requests = [];
    connections.push(requests);
    const blocks = new HeaderBlockAssembler();
    const decoder = new HpackDecoder();
    const reader = new FrameReader(
      (header) => blocks.isOpen || isHeaderBlockOrSettingsFrame(header),
      {
        frame: (header, payload) => {
          const block = blocks.frame(header, payload);
          if (block === undefined) return;
          const fields = decoder.decode(block.fragment);
          requests.push({ authority: fields.find((f) => f.name === ':authority')?.value ?? '', path: fields.find((f) => f.name === ':path')?.value ?? '' });
        },
        passthrough: () => {},
      },
      { leadingBytes: CLIENT_PREFACE.length },
    );
    const upstream = connect(port, '127.0.0.1');
    client.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as AddressInfo).port, connections, server };
}

describe('authority repair: the real etcdctl with endpoints in URL form', function () {
  this.timeout(60_000);
  let harness: Harness;
  let proxy: Awaited<ReturnType<typeof recordingProxy>> | undefined;

  before(function () {
    if (!existsSync(ETCDCTL)) {
      console.log(`      skipped: ${ETCDCTL} is not installed (apt-get install etcd-client)`);
      this.skip();
    }
  });
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    if (proxy !== undefined) await new Promise((r) => proxy!.server.close(r));
    proxy = undefined;
    await harness?.close();
  });

  it('endpoint status, endpoint hashkv and defrag succeed on http://127.0.0.1:PORT', async () => {
    const endpoint = `http://${harness.address}`;
    const status = await etcdctl(endpoint, ['endpoint', 'status', '-w', 'json']);
    expect(status.code, status.stderr).to.equal(0);
    const [entry] = JSON.parse(status.stdout) as { Endpoint: string; Status: { version: string } }[];
    expect(entry).to.deep.include({ Endpoint: endpoint });
    expect(entry!.Status.version).to.equal('3.4.0');
    const hashkv = await etcdctl(endpoint, ['endpoint', 'hashkv']);
    expect(hashkv.code, hashkv.stderr).to.equal(0);
    expect(hashkv.stdout).to.match(new RegExp(`^${endpoint}, \\d+\\n$`));
    const defrag = await etcdctl(endpoint, ['defrag']);
    expect(defrag.code, defrag.stderr).to.equal(0);
    expect(defrag.stdout.trim()).to.equal(`Finished defragmenting etcd member[${endpoint}]`);
  });

  it('keeps one authority per connection: the URL form on the Maintenance dials, host:port on the others (what lets the first request decide)', async () => {
    proxy = await recordingProxy(harness.port);
    const endpoint = `http://127.0.0.1:${proxy.port}`;
    for (const args of [['put', 'k', 'v'], ['endpoint', 'status'], ['endpoint', 'hashkv'], ['defrag'], ['get', 'k'], ['endpoint', 'health']]) {
      const result = await etcdctl(endpoint, args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0);
    }
    const used = proxy.connections.filter((requests) => requests.length > 0);
    for (const requests of used) expect(new Set(requests.map((r) => r.authority)).size, JSON.stringify(requests)).to.equal(1);
    const authorityOf = (path: string): string[] =>
      used
        .flat()
        .filter((r) => r.path === path)
        .map((r) => r.authority);
    for (const path of ['/etcdserverpb.Maintenance/Status', '/etcdserverpb.Maintenance/HashKV', '/etcdserverpb.Maintenance/Defragment']) {
      expect(authorityOf(path), path).to.deep.equal([endpoint]);
    }
    for (const path of ['/etcdserverpb.KV/Put', '/etcdserverpb.KV/Range'])
      expect(new Set(authorityOf(path)), path).to.deep.equal(new Set([`127.0.0.1:${proxy.port}`]));
  });
});
