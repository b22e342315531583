import type { ContainerModule } from 'inversify';
import type { Logger } from './logger.js';
import type { TlsSettings } from './tls-settings.js';

/** The ports a plugin can provide; the config names a plugin for each. */
export type PortName = 'transport' | 'logStore' | 'stableStore' | 'snapshotStore' | 'backend' | 'api';

/** A JSON Schema (draft 2020-12) describing a plugin's options. */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface PluginManifest {
  /** The package name (or a unique name for a plugin loaded by path). */
  readonly name: string;
  /** Every port the plugin can bind. */
  readonly provides: readonly PortName[];
  /** Validates the plugin's options (the keys beside `use` in the config). */
  readonly optionsSchema: JsonSchema;
}

/** What the node tells a plugin about where it runs. */
export interface PluginContext {
  /** The member's name (`--name`). */
  readonly name: string;
  /**
   * The cluster's ID (16 hex digits): a transport refuses peers of another cluster with it. '' for
   * a member started to join a cluster (`initial-cluster-state: existing`): the transport is then
   * given the ID at `start()`, or learns it from the first peer (see the Transport port).
   */
  readonly clusterId: string;
  /** This member's ID (16 hex digits). */
  readonly memberId: string;
  /** The member's data directory (`--data-dir`), created before plugins load. */
  readonly dataDir: string;
  /** Which of the plugin's ports the config chose it for. */
  readonly ports: readonly PortName[];
  /** `--listen-client-urls`: where an API plugin listens unless its options say otherwise. */
  readonly listenClientUrls: readonly string[];
  /** `--listen-peer-urls`: where a transport listens unless its options say otherwise. */
  readonly listenPeerUrls: readonly string[];
  /**
   * `--initial-cluster`: each founding member's name and peer URLs. A transport refuses peer URLs it
   * cannot reach (another transport's kind) in `createModule`, so a wrong config fails as one before
   * anything starts; members added later reach it through `Transport.setPeers`.
   */
  readonly initialCluster: ReadonlyMap<string, readonly string[]>;
  /** `--initial-cluster-token`: tells apart clusters bootstrapped from the same config (a transport may name its subjects by it). */
  readonly clusterToken: string;
  /** `--initial-advertise-peer-urls`: the peer URLs this member tells the cluster (its own, when the initial cluster does not name it). */
  readonly advertisePeerUrls: readonly string[];
  /** `--listen-metrics-urls`: where /metrics and the health endpoints are served besides the client URLs (etcd's flag). */
  readonly listenMetricsUrls: readonly string[];
  /**
   * Client TLS from etcd's flags (`--cert-file`, `--key-file`, `--trusted-ca-file`,
   * `--client-cert-auth`, `--auto-tls`, ...): an API plugin serves TLS on its `https://` client URLs
   * with it. Absent when no certificate and no `--auto-tls` were given (then `https://` URLs are a config error).
   */
  readonly clientTls?: TlsSettings;
  /** Peer TLS from the `--peer-` twins of those flags: a transport serves and dials `https://` peer URLs with it. */
  readonly peerTls?: TlsSettings;
  /** Limits every API frontend enforces (etcd's flags). */
  readonly limits: {
    readonly maxRequestBytes: number;
    /** etcd's --max-concurrent-streams: streams (calls) one client connection may have open at once. */
    readonly maxConcurrentStreams: number;
  };
  /** How an API frontend finds dead client connections (etcd's --grpc-keepalive-interval and -timeout). */
  readonly clientKeepalive: ClientKeepalive;
  readonly logger: Logger;
}

/**
 * Keepalive on client connections: the server pings every `intervalMs` (0: never), closing after
 * `timeoutMs` without an answer; a client pinging more often than every `minTimeMs` is sent away.
 */
export interface ClientKeepalive {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly minTimeMs: number;
}

/**
 * A plugin package's default export (or its named export `plugin`). `createModule` gets options
 * already validated against `manifest.optionsSchema` and binds the chosen ports' tokens
 * (TRANSPORT, LOG_STORE, ..., API_FRONTEND) in the returned module.
 */
export interface CairnPlugin<Options = Record<string, unknown>> {
  readonly manifest: PluginManifest;
  createModule(options: Options, context: PluginContext): ContainerModule;
}
