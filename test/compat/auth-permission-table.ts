import type { Answer, EtcdCaller, EtcdServiceName } from './auth-callers.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
/** etcd's "from key" range end: one zero byte. */
const FROM_KEY = Buffer.from([0]).toString('base64');

/** authpb.Permission.Type. */
const READ = 0;
const WRITE = 1;
const READWRITE = 2;

/** The users of the table and their passwords; `anonymous` sends no token, `forged` a token no member issued. */
export const TABLE_USERS = ['root', 'ukey', 'upre', 'ufrom', 'unone', 'anonymous', 'forged'] as const;
export type TableUser = (typeof TABLE_USERS)[number];

/** What each user may do: read the key `a/k`; write under `b/`; read and write every key from `m` on; nothing. */
const ROLES: readonly { role: string; user: string; perm: { permType: number; key: string; range_end?: string } }[] = [
  { role: 'read-key', user: 'ukey', perm: { permType: READ, key: b64('a/k') } },
  { role: 'write-prefix', user: 'upre', perm: { permType: WRITE, key: b64('b/'), range_end: b64('b0') } },
  { role: 'rw-from', user: 'ufrom', perm: { permType: READWRITE, key: b64('m'), range_end: FROM_KEY } },
];
const PASSWORD = 'pw-secret';

/** A lease whose one key (`a/leased`) only root may write, and one whose key (`m/leased`) ufrom may write too. */
const DENIED_LEASE = '4097';
const WRITABLE_LEASE = '4098';

const put = (key: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ key: b64(key), value: b64('v'), ...extra });

/** One row: a call, and (for calls that change what later rows see) root's calls that set it up first. */
export interface PermissionCase {
  readonly name: string;
  readonly run: (caller: EtcdCaller) => Promise<Answer>;
  readonly prepare?: readonly { service: EtcdServiceName; method: string; request: Record<string, unknown> }[];
  /** Not run for these users (member add as root would really add a member). */
  readonly skip?: readonly TableUser[];
}

const unary =
  (service: EtcdServiceName, method: string, request: Record<string, unknown>) =>
  (caller: EtcdCaller): Promise<Answer> =>
    caller.unary(service, method, request);

/** A compare of a key's value (etcdserverpb.Compare: result EQUAL, target VALUE). */
const valueIs = (key: string): Record<string, unknown> => ({ result: 0, target: 3, key: b64(key), value: b64('v') });

export const PERMISSION_CASES: readonly PermissionCase[] = [
  { name: 'range a/k', run: unary('KV', 'Range', { key: b64('a/k') }) },
  { name: 'range a/other', run: unary('KV', 'Range', { key: b64('a/other') }) },
  { name: 'range b/x', run: unary('KV', 'Range', { key: b64('b/x') }) },
  { name: 'range prefix b/', run: unary('KV', 'Range', { key: b64('b/'), range_end: b64('b0') }) },
  { name: 'range m/x', run: unary('KV', 'Range', { key: b64('m/x') }) },
  { name: 'range from m', run: unary('KV', 'Range', { key: b64('m'), range_end: FROM_KEY }) },
  { name: 'range from a/k', run: unary('KV', 'Range', { key: b64('a/k'), range_end: FROM_KEY }) },
  { name: 'range l', run: unary('KV', 'Range', { key: b64('l') }) },
  { name: 'put a/k', run: unary('KV', 'Put', put('a/k')) },
  { name: 'put b/x', run: unary('KV', 'Put', put('b/x')) },
  { name: 'put b/x with prev_kv', run: unary('KV', 'Put', put('b/x', { prev_kv: true })) },
  { name: 'put c', run: unary('KV', 'Put', put('c')) },
  { name: 'put m/x', run: unary('KV', 'Put', put('m/x')) },
  { name: 'put l', run: unary('KV', 'Put', put('l')) },
  { name: 'delete b/gone', run: unary('KV', 'DeleteRange', { key: b64('b/gone') }) },
  { name: 'delete prefix b/gone', run: unary('KV', 'DeleteRange', { key: b64('b/gone'), range_end: b64('b/gonf') }) },
  { name: 'delete c/gone', run: unary('KV', 'DeleteRange', { key: b64('c/gone') }) },
  { name: 'delete m/gone', run: unary('KV', 'DeleteRange', { key: b64('m/gone') }) },
  {
    name: 'txn compare a/k, put b/t',
    run: unary('KV', 'Txn', { compare: [valueIs('a/k')], success: [{ request_put: put('b/t') }] }),
  },
  {
    name: 'txn compare a/k only',
    run: unary('KV', 'Txn', { compare: [valueIs('a/k')], success: [{ request_range: { key: b64('a/k') } }] }),
  },
  {
    name: 'txn put b/t, delete b/u',
    run: unary('KV', 'Txn', { success: [{ request_put: put('b/t') }, { request_delete_range: { key: b64('b/u') } }] }),
  },
  {
    name: 'txn compare b/x, put b/t',
    run: unary('KV', 'Txn', { compare: [valueIs('b/x')], success: [{ request_put: put('b/t') }] }),
  },
  {
    name: 'txn compare m/x, nested txn reads m/x',
    run: unary('KV', 'Txn', {
      compare: [valueIs('m/x')],
      success: [{ request_put: put('m/t') }],
      failure: [{ request_txn: { success: [{ request_range: { key: b64('m/x') } }] } }],
    }),
  },
  {
    name: 'txn compare m/x, nested txn deletes b/t in failure',
    run: unary('KV', 'Txn', {
      compare: [valueIs('m/x')],
      success: [{ request_range: { key: b64('m/x') } }],
      failure: [{ request_txn: { success: [{ request_delete_range: { key: b64('b/t') } }] } }],
    }),
  },
  {
    name: 'txn compare l (denied compare), put m/t',
    run: unary('KV', 'Txn', { compare: [valueIs('l')], success: [{ request_put: put('m/t') }] }),
  },
  { name: 'watch a/k', run: (c) => c.watch({ key: b64('a/k') }) },
  { name: 'watch a/other', run: (c) => c.watch({ key: b64('a/other') }) },
  { name: 'watch prefix b/', run: (c) => c.watch({ key: b64('b/'), range_end: b64('b0') }) },
  { name: 'watch from m', run: (c) => c.watch({ key: b64('m'), range_end: FROM_KEY }) },
  { name: 'watch range m/a..m/z', run: (c) => c.watch({ key: b64('m/a'), range_end: b64('m/z') }) },
  { name: 'watch range l..m/z', run: (c) => c.watch({ key: b64('l'), range_end: b64('m/z') }) },
  {
    name: 'lease revoke, a denied key attached',
    run: unary('Lease', 'LeaseRevoke', { ID: DENIED_LEASE }),
    prepare: [
      { service: 'Lease', method: 'LeaseGrant', request: { TTL: '600', ID: DENIED_LEASE } },
      { service: 'KV', method: 'Put', request: put('a/leased', { lease: DENIED_LEASE }) },
    ],
  },
  {
    name: 'lease revoke, a writable key attached',
    run: unary('Lease', 'LeaseRevoke', { ID: WRITABLE_LEASE }),
    prepare: [
      { service: 'Lease', method: 'LeaseGrant', request: { TTL: '600', ID: WRITABLE_LEASE } },
      { service: 'KV', method: 'Put', request: put('m/leased', { lease: WRITABLE_LEASE }) },
    ],
  },
  { name: 'compact a future revision', run: unary('KV', 'Compact', { revision: '1000000' }) },
  { name: 'member list', run: unary('Cluster', 'MemberList', {}) },
  { name: 'member add', run: unary('Cluster', 'MemberAdd', { peerURLs: ['http://127.0.0.1:9'] }), skip: ['root'] },
  { name: 'alarm get', run: unary('Maintenance', 'Alarm', { action: 0, memberID: '0', alarm: 0 }) },
  { name: 'alarm deactivate', run: unary('Maintenance', 'Alarm', { action: 2, memberID: '0', alarm: 1 }) },
  { name: 'defragment', run: unary('Maintenance', 'Defragment', {}) },
  { name: 'hash', run: unary('Maintenance', 'Hash', {}) },
  { name: 'snapshot', run: (c) => c.snapshot() },
  { name: 'status', run: unary('Maintenance', 'Status', {}) },
];

async function must(caller: EtcdCaller, service: EtcdServiceName, method: string, request: Record<string, unknown>): Promise<void> {
  const answer = await caller.unary(service, method, request);
  if (answer !== 'ok') throw new Error(`setup ${service}/${method} ${JSON.stringify(request)}: ${answer}`);
}

/**
 * Through `caller` (no token, auth still off): the keys, root and the
 * table's users and roles; then auth enabled. Resolves with a caller per table user.
 */
export async function preparePermissionTable(caller: EtcdCaller): Promise<Record<TableUser, EtcdCaller>> {
  for (const key of ['a/k', 'a/other', 'b/x', 'c', 'm/x', 'l']) await must(caller, 'KV', 'Put', put(key));
  await must(caller, 'Auth', 'UserAdd', { name: 'root', password: PASSWORD });
  await must(caller, 'Auth', 'UserGrantRole', { user: 'root', role: 'root' });
  for (const { role, user, perm } of ROLES) {
    await must(caller, 'Auth', 'RoleAdd', { name: role });
    await must(caller, 'Auth', 'RoleGrantPermission', { name: role, perm });
    await must(caller, 'Auth', 'UserAdd', { name: user, password: PASSWORD });
    await must(caller, 'Auth', 'UserGrantRole', { user, role });
  }
  await must(caller, 'Auth', 'UserAdd', { name: 'unone', password: PASSWORD });
  await must(caller, 'Auth', 'AuthEnable', {});
  const callers: Partial<Record<TableUser, EtcdCaller>> = { anonymous: caller.withToken(undefined), forged: caller.withToken('forged.1') };
  for (const user of ['root', 'ukey', 'upre', 'ufrom', 'unone'] as const) callers[user] = caller.withToken(await caller.authenticate(user, PASSWORD));
  return callers as Record<TableUser, EtcdCaller>;
}

/** Every case for every user, in order: `user | case` to the answer (root's prepare calls run before each case that has them). */
export async function runPermissionTable(callers: Record<TableUser, EtcdCaller>): Promise<Map<string, Answer>> {
  const answers = new Map<string, Answer>();
  for (const user of TABLE_USERS) {
    for (const c of PERMISSION_CASES) {
      if (c.skip?.includes(user) === true) continue;
      // The answer to a prepare call is not checked: a lease left from an earlier row already exists.
      for (const p of c.prepare ?? []) await callers.root.unary(p.service, p.method, p.request);
      answers.set(`${user} | ${c.name}`, await c.run(callers[user]));
    }
  }
  return answers;
}
