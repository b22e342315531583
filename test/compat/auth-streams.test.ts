import { expect } from 'chai';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdServiceDefinition, recipeServiceDefinition } from '@cairn/api-grpc';
import { GatewayCaller, GrpcCaller } from './auth-callers.js';
import { FAST_BCRYPT } from './auth-servers.js';
import { startCairn, startEtcd, type ServerProcess } from './processes.js';

type Reply = Record<string, unknown>;

const b64 = (text: string): string => Buffer.from(text).toString('base64');

const tokenMetadata = (token: string | undefined): Metadata => {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('token', token);
  return metadata;
};

/** The first answer of a LeaseKeepAlive stream for `id`: `ttl <n>` or `error <code> <message>`. */
function keepAliveOnce(client: Client, id: string, token: string | undefined): Promise<string> {
  const stream = (client as unknown as { LeaseKeepAlive(m: Metadata): ClientDuplexStream<object, Reply> }).LeaseKeepAlive(tokenMetadata(token));
  return new Promise((resolve) => {
    stream.on('data', (r: Reply) => {
      stream.on('error', () => undefined);
      stream.cancel();
      resolve(`ttl ${Number(r['TTL']) > 0 ? 'positive' : String(r['TTL'])}`);
    });
    stream.on('error', (err: ServiceError) => resolve(`error ${err.code} ${err.details}`));
    stream.write({ ID: id });
  });
}

/** The first answer of an Election Observe stream on `name`: `leader <value>` or `error <code> <message>`. */
function observeOnce(client: Client, name: string, token: string | undefined): Promise<string> {
  const stream = (client as unknown as { Observe(r: object, m: Metadata): ClientReadableStream<Reply> }).Observe(
    { name: Buffer.from(name) },
    tokenMetadata(token),
  );
  return new Promise((resolve) => {
    stream.on('data', (r: Reply) => {
      stream.on('error', () => undefined);
      stream.cancel();
      resolve(`leader ${String((r['kv'] as { value: Buffer }).value)}`);
    });
    stream.on('error', (err: ServiceError) => resolve(`error ${err.code} ${err.details}`));
  });
}

/** The gateway's LeaseKeepAlive for `id`, with `token` in the Authorization header: `ttl <n>` or the stream's error. */
async function gatewayKeepAliveOnce(endpoint: string, id: string, token: string | undefined): Promise<string> {
  const response = await fetch(`http://${endpoint}/v3/lease/keepalive`, {
    method: 'POST',
    headers: token === undefined ? {} : { Authorization: token },
    body: JSON.stringify({ ID: id }),
  });
  const line = JSON.parse((await response.text()).split('\n')[0]!) as Reply;
  const result = line['result'] as Reply | undefined;
  if (result !== undefined) return `ttl ${Number(result['TTL']) > 0 ? 'positive' : String(result['TTL'])}`;
  const error = line['error'] as Reply | string;
  return typeof error === 'string' ? `error ${String(line['code'])} ${error}` : `error ${String(error['grpc_code'])} ${String(error['message'])}`;
}

/** What the lease keep-alive, election observe and gateway watch streams answer each caller, on one server. */
async function streamAnswers(server: ServerProcess): Promise<Record<string, string>> {
  const root = new GrpcCaller(server.endpoint);
  const lease = new (makeGenericClientConstructor(etcdServiceDefinition('Lease'), 'Lease'))(server.endpoint, credentials.createInsecure());
  const election = new (makeGenericClientConstructor(recipeServiceDefinition('v3electionpb.Election'), 'Election'))(
    server.endpoint,
    credentials.createInsecure(),
  );
  try {
    await root.call('Lease', 'LeaseGrant', { TTL: '600', ID: '7001' });
    const campaign = (request: object): Promise<Reply> =>
      new Promise((resolve, reject) =>
        (election as unknown as { Campaign(r: object, cb: (e: ServiceError | null, r: Reply) => void): void }).Campaign(request, (e, r) =>
          e === null ? resolve(r) : reject(e),
        ),
      );
    await campaign({ name: Buffer.from('elect/e1'), lease: '7001', value: Buffer.from('leader-1') });
    await root.call('Auth', 'UserAdd', { name: 'root', password: 'pw' });
    await root.call('Auth', 'UserGrantRole', { user: 'root', role: 'root' });
    await root.call('Auth', 'RoleAdd', { name: 'elect-reader' });
    await root.call('Auth', 'RoleGrantPermission', {
      name: 'elect-reader',
      perm: { permType: 0, key: b64('elect/'), range_end: b64('elect0') },
    });
    await root.call('Auth', 'UserAdd', { name: 'reader', password: 'pw' });
    await root.call('Auth', 'UserGrantRole', { user: 'reader', role: 'elect-reader' });
    await root.call('Auth', 'UserAdd', { name: 'nobody', password: 'pw' });
    await root.call('Auth', 'AuthEnable', {});
    const rootToken = await root.authenticate('root', 'pw');
    const readerToken = await root.authenticate('reader', 'pw');
    const nobodyToken = await root.authenticate('nobody', 'pw');
    const gateway = new GatewayCaller(server.endpoint);
    const gatewayRoot = await gateway.authenticate('root', 'pw');
    const gatewayReader = gateway.withToken(await gateway.authenticate('reader', 'pw'));
    const rows: Record<string, () => Promise<string>> = {
      'keepalive root': () => keepAliveOnce(lease, '7001', rootToken),
      'keepalive no role': () => keepAliveOnce(lease, '7001', nobodyToken),
      'keepalive no token': () => keepAliveOnce(lease, '7001', undefined),
      'keepalive forged token': () => keepAliveOnce(lease, '7001', 'forged.1'),
      'gateway keepalive root': () => gatewayKeepAliveOnce(server.endpoint, '7001', gatewayRoot),
      'gateway keepalive forged token': () => gatewayKeepAliveOnce(server.endpoint, '7001', 'forged.1'),
      'observe root': () => observeOnce(election, 'elect/e1', rootToken),
      'observe reader': () => observeOnce(election, 'elect/e1', readerToken),
      'gateway watch read-permitted': () => gatewayReader.watch({ key: b64('elect/'), range_end: b64('elect0') }),
      'gateway watch forged token': () => gateway.withToken('forged.1').watch({ key: b64('elect/'), range_end: b64('elect0') }),
    };
    const answers: Record<string, string> = {};
    for (const [row, run] of Object.entries(rows)) answers[row] = await run();
    return answers;
  } finally {
    root.close();
    lease.close();
    election.close();
  }
}

/** Streams authorize their caller once, when they open: keep-alives, election observe, gateway streams. */
describe('auth on streams: lease keep-alive, election observe and the gateway’s streams, as etcd answers', function () {
  this.timeout(60_000);
  let dir: string;
  const servers: ServerProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-auth-streams-'));
  });
  after(async () => {
    for (const server of servers) await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers each caller as etcd 3.4 does', async function () {
    const cairn = await startCairn(join(dir, 'cairn.data'), [...FAST_BCRYPT]);
    servers.push(cairn);
    const mine = await streamAnswers(cairn);
    // etcd checks no token on a keep-alive (a lease ID is the capability); a watch create, once the stream is open.
    const expected = {
      'keepalive root': 'ttl positive',
      'keepalive no role': 'ttl positive',
      'keepalive no token': 'ttl positive',
      'keepalive forged token': 'ttl positive',
      'gateway keepalive root': 'ttl positive',
      'gateway keepalive forged token': 'ttl positive',
      'observe root': 'leader leader-1',
      'observe reader': 'leader leader-1',
      'gateway watch read-permitted': 'watch created',
      'gateway watch forged token': 'watch canceled rpc error: code = Unauthenticated desc = etcdserver: invalid auth token',
    };
    const etcd = await startEtcd(join(dir, 'etcd.data'), FAST_BCRYPT);
    if (etcd !== undefined) {
      servers.push(etcd);
      const theirs = await streamAnswers(etcd);
      expect(theirs, 'a real etcd 3.4').to.deep.equal(expected);
    }
    expect(mine, 'cairn').to.deep.equal(expected);
  });

  it('refuses an SSE watch (a Cairn extension) of a range the caller may not read, or with a bad token, as an HTTP error', async () => {
    const cairn = servers[0]!;
    const gateway = new GatewayCaller(cairn.endpoint);
    const reader = await gateway.authenticate('reader', 'pw');
    const sse = async (query: string, token: string): Promise<{ status: number; body: string }> => {
      const response = await fetch(`http://${cairn.endpoint}/v3/watch?${query}`, { headers: { Accept: 'text/event-stream', Authorization: token } });
      if (response.status === 200) {
        await response.body?.cancel();
        return { status: 200, body: '' };
      }
      return { status: response.status, body: await response.text() };
    };
    expect(await sse('key=elect/&prefix=true', reader)).to.deep.equal({ status: 200, body: '' });
    expect(await sse('key=secret', reader)).to.deep.equal({
      status: 403,
      body: '{"error":"etcdserver: permission denied","message":"etcdserver: permission denied","code":7}',
    });
    expect(await sse('key=elect/&prefix=true', 'forged.1')).to.deep.equal({
      status: 401,
      body: '{"error":"etcdserver: invalid auth token","message":"etcdserver: invalid auth token","code":16}',
    });
  });
});
