/** One command-line flag: etcd's name and meaning where etcd has it. */
export interface FlagSpec {
  readonly name: string;
  readonly kind: 'string' | 'integer' | 'boolean';
  readonly description: string;
  /** Shown in --help; the schema holds the real default. */
  readonly defaultText?: string;
}

export const FLAGS: readonly FlagSpec[] = [
  { name: 'config-file', kind: 'string', description: 'YAML or JSON config file; flags override its keys' },
  { name: 'name', kind: 'string', description: 'human-readable name of this member', defaultText: 'default' },
  { name: 'data-dir', kind: 'string', description: 'where this member keeps its data', defaultText: '<name>.cairn' },
  { name: 'listen-client-urls', kind: 'string', description: 'comma-separated URLs to serve clients on', defaultText: 'http://localhost:2379' },
  { name: 'advertise-client-urls', kind: 'string', description: 'client URLs told to the rest of the cluster', defaultText: 'http://localhost:2379' },
  { name: 'listen-peer-urls', kind: 'string', description: 'comma-separated URLs to talk to peers on', defaultText: 'http://localhost:2380' },
  { name: 'listen-metrics-urls', kind: 'string', description: 'comma-separated URLs to also serve /metrics and the health endpoints on' },
  { name: 'initial-advertise-peer-urls', kind: 'string', description: 'peer URLs told to the rest of the cluster', defaultText: 'http://localhost:2380' },
  { name: 'initial-cluster', kind: 'string', description: 'bootstrap members: name=peerURL,...', defaultText: '<name>=<initial-advertise-peer-urls>' },
  { name: 'initial-cluster-state', kind: 'string', description: "'new' to bootstrap, 'existing' to join", defaultText: 'new' },
  { name: 'initial-cluster-token', kind: 'string', description: 'distinguishes clusters bootstrapped from the same config', defaultText: 'etcd-cluster' },
  { name: 'heartbeat-interval', kind: 'integer', description: 'milliseconds between leader heartbeats', defaultText: '100' },
  { name: 'election-timeout', kind: 'integer', description: 'milliseconds without a leader before an election', defaultText: '1000' },
  { name: 'snapshot-count', kind: 'integer', description: 'applied entries between snapshots (the log is compacted behind them)', defaultText: '10000' },
  {
    name: 'snapshot-catchup-entries',
    kind: 'integer',
    description: 'entries the leader keeps behind a snapshot for slow followers (etcd 3.5: --experimental-snapshot-catchup-entries)',
    defaultText: '5000',
  },
  {
    name: 'experimental-enable-lease-checkpoint',
    kind: 'boolean',
    description: "replicate leases' remaining TTLs, so a new leader does not renew them (=false: etcd's default)",
    defaultText: 'true',
  },
  {
    name: 'experimental-enable-lease-checkpoint-persist',
    kind: 'boolean',
    description: 'accepted for etcd 3.5; checkpoints are always persisted (etcd 3.6)',
    defaultText: 'true',
  },
  {
    name: 'experimental-lease-checkpoint-interval',
    kind: 'string',
    description: 'how long after its last renewal or checkpoint a lease is checkpointed (Go duration; etcd: 5m)',
    defaultText: '5s',
  },
  { name: 'max-request-bytes', kind: 'integer', description: 'largest client request accepted', defaultText: '1572864' },
  {
    name: 'max-concurrent-streams',
    kind: 'integer',
    description: 'most concurrent streams each client connection can open',
    defaultText: '4294967295',
  },
  {
    name: 'grpc-keepalive-interval',
    kind: 'string',
    description: 'how often an idle client connection is pinged to check it is alive (Go duration; 0s: never)',
    defaultText: '2h',
  },
  {
    name: 'grpc-keepalive-min-time',
    kind: 'string',
    description: 'the least time a client should wait between pings; one that pings more often is sent GOAWAY "too_many_pings" (Go duration)',
    defaultText: '5s',
  },
  {
    name: 'grpc-keepalive-timeout',
    kind: 'string',
    description: 'how long an unanswered ping waits before the connection is closed (Go duration)',
    defaultText: '20s',
  },
  { name: 'max-txn-ops', kind: 'integer', description: 'most operations in one txn', defaultText: '128' },
  {
    name: 'quota-backend-bytes',
    kind: 'integer',
    description: 'backend bytes in use that raise the NOSPACE alarm (0 = 2 GiB, negative = no quota)',
    defaultText: '0',
  },
  {
    name: 'auth-token',
    kind: 'string',
    description: "'simple' or 'jwt,pub-key=<file>,priv-key=<file>,sign-method=<alg>,ttl=<duration>'",
    defaultText: 'simple',
  },
  { name: 'auth-token-ttl', kind: 'integer', description: 'seconds a simple token lives after its last use', defaultText: '300' },
  { name: 'bcrypt-cost', kind: 'integer', description: 'bcrypt work factor of password hashes (4-31)', defaultText: '10' },
  { name: 'cert-file', kind: 'string', description: 'client TLS certificate (PEM) for https:// client URLs' },
  { name: 'key-file', kind: 'string', description: 'client TLS private key (PEM)' },
  { name: 'trusted-ca-file', kind: 'string', description: 'CA bundle (PEM) that client certificates must chain to' },
  { name: 'client-cert-auth', kind: 'boolean', description: 'require a client certificate signed by --trusted-ca-file' },
  { name: 'auto-tls', kind: 'boolean', description: 'serve https:// client URLs with a self-signed certificate made in the data dir' },
  { name: 'cipher-suites', kind: 'string', description: 'comma-separated TLS cipher suites (Go names, as etcd); client and peer' },
  { name: 'tls-min-version', kind: 'string', description: 'TLS1.2 or TLS1.3; client and peer', defaultText: 'TLS1.2' },
  { name: 'peer-cert-file', kind: 'string', description: 'peer TLS certificate (PEM) for https:// peer URLs' },
  { name: 'peer-key-file', kind: 'string', description: 'peer TLS private key (PEM)' },
  { name: 'peer-trusted-ca-file', kind: 'string', description: 'CA bundle (PEM) that peer certificates must chain to' },
  { name: 'peer-client-cert-auth', kind: 'boolean', description: 'require peers to present a certificate signed by --peer-trusted-ca-file' },
  { name: 'peer-auto-tls', kind: 'boolean', description: 'talk to peers over TLS with a self-signed certificate made in the data dir' },
  { name: 'log-level', kind: 'string', description: 'debug, info, warn or error', defaultText: 'info' },
  { name: 'help', kind: 'boolean', description: 'print this help and exit' },
  { name: 'version', kind: 'boolean', description: 'print the version and exit' },
];

export function helpText(version: string): string {
  const lines = [
    `cairn ${version}: a distributed key-value store speaking the etcd v3 API`,
    '',
    'usage: cairn [flags]',
    '',
    'With no flags, starts a single member named "default" with its data in ./default.cairn,',
    "serving clients on 127.0.0.1:2379. Flags use etcd's names and defaults.",
    '',
    'flags:',
  ];
  for (const f of FLAGS) {
    const arg = f.kind === 'boolean' ? '' : f.kind === 'integer' ? ' <n>' : ' <value>';
    const def = f.defaultText === undefined ? '' : ` (default ${f.defaultText})`;
    lines.push(`  --${f.name}${arg}`.padEnd(40) + f.description + def);
  }
  lines.push('', 'Plugins (storage, transport, API frontends) are chosen under `plugins:` in the config file.');
  return lines.join('\n');
}
