import type { JsonSchema } from '../ports/plugin.js';

/** `{ use: "<package or path>", ...options }`: one plugin chosen for one or more ports. */
export interface PluginChoice {
  readonly use: string;
  readonly [option: string]: unknown;
}

export interface PluginsConfig {
  /** One plugin for all four storage ports; the per-port keys below override it. */
  readonly storage?: PluginChoice;
  readonly logStore?: PluginChoice;
  readonly stableStore?: PluginChoice;
  readonly snapshotStore?: PluginChoice;
  readonly backend?: PluginChoice;
  readonly transport?: PluginChoice;
  readonly api?: readonly PluginChoice[];
  /**
   * Plugins loaded for their contributions alone (health checks, metrics collectors, lifecycle
   * participants): they bind no port.
   */
  readonly extensions?: readonly PluginChoice[];
}

/** The validated configuration, keys as in etcd's config file. */
export interface CairnConfig {
  readonly 'name': string;
  readonly 'data-dir': string;
  readonly 'listen-client-urls': string;
  readonly 'advertise-client-urls': string;
  readonly 'listen-peer-urls': string;
  /** Where /metrics and the health endpoints are also served, apart from the client URLs ('' = nowhere else). */
  readonly 'listen-metrics-urls': string;
  readonly 'initial-advertise-peer-urls': string;
  readonly 'initial-cluster': string;
  readonly 'initial-cluster-state': 'new' | 'existing';
  readonly 'initial-cluster-token': string;
  readonly 'heartbeat-interval': number;
  readonly 'election-timeout': number;
  readonly 'snapshot-count': number;
  readonly 'snapshot-catchup-entries': number;
  /** Replicate leases' remaining TTLs through Raft (etcd 3.4's opt-in; on by default here). */
  readonly 'experimental-enable-lease-checkpoint': boolean;
  /** etcd 3.5's flag to persist checkpoints; accepted, and always so here (etcd 3.6's behaviour). */
  readonly 'experimental-enable-lease-checkpoint-persist': boolean;
  /** A Go duration ("5s", "1m30s"): how long after its last renewal or checkpoint a lease is checkpointed. */
  readonly 'experimental-lease-checkpoint-interval': string;
  readonly 'max-request-bytes': number;
  /** Most concurrent streams (calls) one client connection may open (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly 'max-concurrent-streams': number;
  /** A Go duration: an idle client connection is pinged this often ("0s" turns pings off). */
  readonly 'grpc-keepalive-interval': string;
  /** A Go duration: a ping unanswered this long closes the connection ("0s": the 20 s default, as grpc-go). */
  readonly 'grpc-keepalive-timeout': string;
  /** etcd's --grpc-keepalive-min-time (Go duration). */
  readonly 'grpc-keepalive-min-time': string;
  readonly 'max-txn-ops': number;
  readonly 'quota-backend-bytes': number;
  readonly 'auth-token': string;
  readonly 'auth-token-ttl': number;
  readonly 'bcrypt-cost': number;
  readonly 'cert-file': string;
  readonly 'key-file': string;
  readonly 'trusted-ca-file': string;
  readonly 'client-cert-auth': boolean;
  readonly 'auto-tls': boolean;
  /** Comma-separated Go cipher suite names ('' = the TLS library's defaults). */
  readonly 'cipher-suites': string;
  readonly 'tls-min-version': 'TLS1.2' | 'TLS1.3';
  readonly 'peer-cert-file': string;
  readonly 'peer-key-file': string;
  readonly 'peer-trusted-ca-file': string;
  readonly 'peer-client-cert-auth': boolean;
  readonly 'peer-auto-tls': boolean;
  readonly 'log-level': 'debug' | 'info' | 'warn' | 'error';
  readonly 'plugins': PluginsConfig;
}

const urlList = { type: 'string', pattern: '^[a-z][a-z0-9+.-]*://[^,\\s]+(,[a-z][a-z0-9+.-]*://[^,\\s]+)*$' };
const pluginChoice = {
  type: 'object',
  required: ['use'],
  properties: { use: { type: 'string', minLength: 1 } },
};

/** JSON Schema of the core's keys (plugin options are checked against each plugin's own schema). */
export const CONFIG_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    'name': { type: 'string', minLength: 1, pattern: '^[^=,\\s]+$', default: 'default' },
    'data-dir': { type: 'string', minLength: 1 },
    'listen-client-urls': { ...urlList, default: 'http://localhost:2379' },
    'advertise-client-urls': { ...urlList, default: 'http://localhost:2379' },
    'listen-peer-urls': { ...urlList, default: 'http://localhost:2380' },
    'listen-metrics-urls': { anyOf: [urlList, { const: '' }], default: '' },
    'initial-advertise-peer-urls': { ...urlList, default: 'http://localhost:2380' },
    'initial-cluster': { type: 'string', pattern: '^[^=,\\s]+=[^,\\s]+(,[^=,\\s]+=[^,\\s]+)*$' },
    'initial-cluster-state': { enum: ['new', 'existing'], default: 'new' },
    'initial-cluster-token': { type: 'string', minLength: 1, default: 'etcd-cluster' },
    'heartbeat-interval': { type: 'integer', minimum: 1, default: 100 },
    'election-timeout': { type: 'integer', minimum: 1, default: 1000 },
    'snapshot-count': { type: 'integer', minimum: 1, default: 10000 },
    'snapshot-catchup-entries': { type: 'integer', minimum: 1, default: 5000 },
    'experimental-enable-lease-checkpoint': { type: 'boolean', default: true },
    'experimental-enable-lease-checkpoint-persist': { type: 'boolean', default: true },
    // Checked by checkLeaseCheckpointInterval, which names what is wrong.
    'experimental-lease-checkpoint-interval': { type: 'string', minLength: 1, default: '5s' },
    'max-request-bytes': { type: 'integer', minimum: 1, default: 1572864 },
    // etcd's default is math.MaxUint32, the most HTTP/2 can say.
    'max-concurrent-streams': { type: 'integer', minimum: 1, maximum: 4294967295, default: 4294967295 },
    // Checked by clientKeepaliveOf, which names what is wrong.
    'grpc-keepalive-interval': { type: 'string', minLength: 1, default: '2h' },
    'grpc-keepalive-timeout': { type: 'string', minLength: 1, default: '20s' },
    'grpc-keepalive-min-time': { type: 'string', minLength: 1, default: '5s' },
    'max-txn-ops': { type: 'integer', minimum: 1, default: 128 },
    'quota-backend-bytes': { type: 'integer', default: 0 },
    // Checked by checkAuthToken, which names what is wrong.
    'auth-token': { type: 'string', minLength: 1, default: 'simple' },
    'auth-token-ttl': { type: 'integer', minimum: 1, default: 300 },
    'bcrypt-cost': { type: 'integer', minimum: 4, maximum: 31, default: 10 },
    'cert-file': { type: 'string', default: '' },
    'key-file': { type: 'string', default: '' },
    'trusted-ca-file': { type: 'string', default: '' },
    'client-cert-auth': { type: 'boolean', default: false },
    'auto-tls': { type: 'boolean', default: false },
    'cipher-suites': { type: 'string', pattern: '^([A-Z0-9_]+(,[A-Z0-9_]+)*)?$', default: '' },
    'tls-min-version': { enum: ['TLS1.2', 'TLS1.3'], default: 'TLS1.2' },
    'peer-cert-file': { type: 'string', default: '' },
    'peer-key-file': { type: 'string', default: '' },
    'peer-trusted-ca-file': { type: 'string', default: '' },
    'peer-client-cert-auth': { type: 'boolean', default: false },
    'peer-auto-tls': { type: 'boolean', default: false },
    'log-level': { enum: ['debug', 'info', 'warn', 'error'], default: 'info' },
    'plugins': {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        storage: pluginChoice,
        logStore: pluginChoice,
        stableStore: pluginChoice,
        snapshotStore: pluginChoice,
        backend: pluginChoice,
        transport: pluginChoice,
        api: { type: 'array', items: pluginChoice },
        extensions: { type: 'array', items: pluginChoice },
      },
    },
  },
};
