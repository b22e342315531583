/**
 * What the recipe suites share: one in-process Cairn member per suite, a client, sessions that
 * are closed after each test, a fresh key prefix per test, and small timing helpers.
 */
import { randomBytes } from 'node:crypto';
import { CairnMemberFixture } from '../cairn-member-fixture.js';
import { EtcdProcessFixture } from '../etcd-process-fixture.js';
import { Client, type Session } from '../../src/index.js';

/** What the recipes run against: an in-process Cairn member, or a real etcd 3.4 process. */
export type RecipeServer = 'cairn' | 'etcd';

export class RecipeTestKit {
  client!: Client;
  endpoint = '';
  private server: CairnMemberFixture | EtcdProcessFixture | undefined;
  private readonly clients: Client[] = [];
  private sessions: Session[] = [];

  constructor(readonly target: RecipeServer = 'cairn') {}

  /** Call from `before`. */
  async start(): Promise<void> {
    this.server = this.target === 'cairn' ? await CairnMemberFixture.start() : await EtcdProcessFixture.start();
    this.endpoint = this.server.endpoint;
    this.client = this.newClient();
  }

  /** Call from `after`. */
  async stop(): Promise<void> {
    await this.closeSessions();
    for (const client of this.clients.splice(0)) await client.close();
    await this.server?.close();
  }

  /** Call from `afterEach`. */
  async closeSessions(): Promise<void> {
    for (const session of this.sessions.splice(0)) await session.close().catch(() => undefined);
  }

  /** A session on the shared client (or on `client`), closed after the test. */
  async session(ttl = 10, client: Client = this.client): Promise<Session> {
    const session = await client.session({ ttl });
    this.sessions.push(session);
    return session;
  }

  /** A client of its own (its own connection), closed with the fixture. */
  newClient(): Client {
    const client = new Client({ endpoints: [this.endpoint] });
    this.clients.push(client);
    return client;
  }
}

/**
 * `describe(title)` once per server: against Cairn, and against a real etcd 3.4 when
 * /usr/bin/etcd is installed (skipped with a printed reason otherwise).
 */
export function describeOnEachServer(title: string, body: (kit: RecipeTestKit) => void): void {
  for (const target of ['cairn', 'etcd'] as const) {
    describe(`${title} [${target}]`, function () {
      this.timeout(30_000);
      const kit = new RecipeTestKit(target);
      before(async function () {
        if (target === 'etcd' && !EtcdProcessFixture.available()) {
          console.log(`      (skipped: ${'/usr/bin/etcd'} is not installed)`);
          this.skip();
        }
        await kit.start();
      });
      after(() => kit.stop());
      afterEach(() => kit.closeSessions());
      body(kit);
    });
  }
}

/** A key prefix no other test uses. */
export function freshPrefix(name: string): string {
  return `/recipes-test/${name}/${randomBytes(4).toString('hex')}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether `promise` settles within `ms` (it keeps running either way). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  const watched = promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await Promise.race([watched, sleep(ms)]);
  return settled;
}

/** The rejection of `promise` (fails if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}
