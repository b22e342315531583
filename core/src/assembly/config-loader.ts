import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config-error.js';
import { CONFIG_SCHEMA, type CairnConfig } from './config-schema.js';
import { FLAGS } from './flags.js';
import { validateAgainst } from './schema-validator.js';
import { checkTlsKeys } from './tls-config.js';
import { checkAuthToken } from './auth-token-config.js';
import { parseGoDuration } from '../auth/auth-token-option.js';
import type { ClientKeepalive } from '../ports/plugin.js';

export interface LoadedConfig {
  readonly config: CairnConfig;
  /** Where relative plugin paths resolve from: the config file's directory, else the working directory. */
  readonly baseDir: string;
  readonly help: boolean;
  readonly version: boolean;
}

/** Go's flag package takes `--flag=true` and `--flag=false` for a boolean; node:util only `--flag`. */
function booleanFlagValues(argv: readonly string[]): { args: string[]; explicit: Map<string, boolean> } {
  const booleans = new Set(FLAGS.filter((f) => f.kind === 'boolean').map((f) => f.name));
  const explicit = new Map<string, boolean>();
  const args = argv.filter((arg) => {
    const m = /^--?([a-z-]+)=(true|false)$/.exec(arg);
    if (m === null || !booleans.has(m[1]!)) return true;
    explicit.set(m[1]!, m[2] === 'true');
    return false;
  });
  return { args, explicit };
}

function parseFlags(argv: readonly string[]): Record<string, string | boolean> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const f of FLAGS) options[f.name] = { type: f.kind === 'boolean' ? 'boolean' : 'string' };
  const { args, explicit } = booleanFlagValues(argv);
  try {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    const flags = values as Record<string, string | boolean>;
    for (const [name, value] of explicit) flags[name] = value;
    return flags;
  } catch (err) {
    // node:util phrases these well ("Unknown option '--x'"); keep its words.
    throw new ConfigError(`flags: ${(err as Error).message}`);
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`config-file: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text); // YAML is a superset of JSON: one parser for both
  } catch (err) {
    throw new ConfigError(`config-file: ${path} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config-file: ${path} must hold a mapping of keys to values`);
  return parsed as Record<string, unknown>;
}

/**
 * The configuration of this member: the config file (if any), overridden by flags, validated
 * against the schema, with etcd's derived defaults filled in.
 */
export function loadConfig(argv: readonly string[], cwd = process.cwd()): LoadedConfig {
  const flags = parseFlags(argv);
  const help = flags['help'] === true;
  const version = flags['version'] === true;
  const file = typeof flags['config-file'] === 'string' ? resolve(cwd, flags['config-file']) : undefined;
  const raw: Record<string, unknown> = file === undefined ? {} : readConfigFile(file);
  for (const f of FLAGS) {
    const value = flags[f.name];
    if (value === undefined || f.name === 'config-file' || f.name === 'help' || f.name === 'version') continue;
    // A flag that is not a whole number stays a string, so the schema names it in its error.
    raw[f.name] = f.kind === 'integer' && /^-?\d+$/.test(value as string) ? Number(value) : value;
  }
  return { config: configFrom(raw), baseDir: file === undefined ? cwd : dirname(file), help, version };
}

/** Validate etcd-style keys (defaults filled in) and derive what etcd derives: the data dir and a lone member's initial cluster. */
export function configFrom(keys: Readonly<Record<string, unknown>>): CairnConfig {
  const raw: Record<string, unknown> = { ...keys };
  validateAgainst(CONFIG_SCHEMA, raw, '');
  const name = raw['name'] as string;
  if (raw['data-dir'] === undefined) raw['data-dir'] = `${name}.cairn`;
  if (raw['initial-cluster'] === undefined) {
    raw['initial-cluster'] = (raw['initial-advertise-peer-urls'] as string)
      .split(',')
      .map((u) => `${name}=${u}`)
      .join(',');
  }
  const config = raw as unknown as CairnConfig;
  if (config['election-timeout'] < 5 * config['heartbeat-interval']) {
    throw new ConfigError('config: election-timeout must be at least 5 times heartbeat-interval');
  }
  if (config['initial-cluster-state'] === 'new' && !parseInitialCluster(config['initial-cluster']).has(name)) {
    throw new ConfigError(`config: initial-cluster has no member named "${name}" (the --name of this member)`);
  }
  checkTlsKeys(config);
  checkAuthToken(config);
  leaseCheckpointIntervalMs(config);
  clientKeepaliveOf(config);
  return config;
}

/** A Go duration of config key `key` in ms; a ConfigError naming the key when it is not one, or is 0 where that means nothing. */
function durationMs(key: string, text: string, zero: 'allowed' | 'refused'): number {
  let ms: number;
  try {
    ms = parseGoDuration(text);
  } catch (err) {
    throw new ConfigError(`config: ${key}: ${(err as Error).message}`);
  }
  if (ms < 0 || (zero === 'refused' && ms === 0)) throw new ConfigError(`config: ${key}: "${text}" must be a positive duration`);
  return ms;
}

/** `experimental-lease-checkpoint-interval` in ms; a ConfigError naming the key when it is not a positive Go duration. */
export function leaseCheckpointIntervalMs(config: Pick<CairnConfig, 'experimental-lease-checkpoint-interval'>): number {
  return durationMs('experimental-lease-checkpoint-interval', config['experimental-lease-checkpoint-interval'], 'refused');
}

/** grpc-go's server keepalive timeout, which etcd's flag at 0 leaves in place. */
const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;

/** etcd's --grpc-keepalive-interval, -timeout and -min-time in ms, as an API frontend applies them (interval 0: no pings). */
export function clientKeepaliveOf(
  config: Pick<CairnConfig, 'grpc-keepalive-interval' | 'grpc-keepalive-timeout' | 'grpc-keepalive-min-time'>,
): ClientKeepalive {
  const timeoutMs = durationMs('grpc-keepalive-timeout', config['grpc-keepalive-timeout'], 'allowed');
  return {
    intervalMs: durationMs('grpc-keepalive-interval', config['grpc-keepalive-interval'], 'allowed'),
    timeoutMs: timeoutMs === 0 ? DEFAULT_KEEPALIVE_TIMEOUT_MS : timeoutMs,
    minTimeMs: durationMs('grpc-keepalive-min-time', config['grpc-keepalive-min-time'], 'allowed'),
  };
}

/** "n1=http://a:2380,n1=http://b:2380,n2=..." → name → peer URLs. */
export function parseInitialCluster(spec: string): Map<string, string[]> {
  const members = new Map<string, string[]>();
  for (const part of spec.split(',')) {
    const at = part.indexOf('=');
    const name = part.slice(0, at);
    const url = part.slice(at + 1);
    if (!/^[a-z][a-z0-9+.-]*:\/\/.+/.test(url)) throw new ConfigError(`config: initial-cluster has an invalid URL "${url}" for member "${name}"`);
    members.set(name, [...(members.get(name) ?? []), url]);
  }
  return members;
}
