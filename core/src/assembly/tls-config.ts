import { isAbsolute, resolve } from 'node:path';
import type { TlsSettings } from '../ports/tls-settings.js';
import { ConfigError } from './config-error.js';
import type { CairnConfig } from './config-schema.js';

type Side = 'client' | 'peer';

const keyOf = (side: Side, key: string): keyof CairnConfig => (side === 'client' ? key : `peer-${key}`) as keyof CairnConfig;
const text = (config: CairnConfig, side: Side, key: string): string => config[keyOf(side, key)] as string;
const flag = (config: CairnConfig, side: Side, key: string): boolean => config[keyOf(side, key)] as boolean;

function httpsUrls(config: CairnConfig, side: Side): string[] {
  const keys = side === 'client' ? ['listen-client-urls', 'advertise-client-urls'] : ['listen-peer-urls', 'initial-advertise-peer-urls'];
  return keys.flatMap((k) => (config[k as keyof CairnConfig] as string).split(',')).filter((u) => u.startsWith('https://'));
}

/** etcd's checks of the TLS flags: a certificate and its key come together, and https:// URLs need one (or auto TLS). */
export function checkTlsKeys(config: CairnConfig): void {
  for (const side of ['client', 'peer'] as const) {
    const cert = text(config, side, 'cert-file');
    const key = text(config, side, 'key-file');
    const prefix = side === 'client' ? '' : 'peer-';
    if ((cert === '') !== (key === '')) throw new ConfigError(`config: --${prefix}cert-file and --${prefix}key-file must be given together`);
    if (flag(config, side, 'client-cert-auth') && text(config, side, 'trusted-ca-file') === '') {
      throw new ConfigError(`config: --${prefix}client-cert-auth needs --${prefix}trusted-ca-file`);
    }
    const url = httpsUrls(config, side)[0];
    if (url !== undefined && cert === '' && !flag(config, side, 'auto-tls')) {
      throw new ConfigError(`config: TLS key/cert (--${prefix}cert-file, --${prefix}key-file) must be provided for ${side} url ${url} with HTTPS scheme`);
    }
  }
}

/** One side's TLS settings from the config, paths made absolute against `baseDir`; undefined when that side has no TLS. */
export function tlsSettingsOf(config: CairnConfig, side: Side, baseDir: string): TlsSettings | undefined {
  const cert = text(config, side, 'cert-file');
  const autoTls = flag(config, side, 'auto-tls');
  if (cert === '' && !autoTls) return undefined;
  const path = (p: string): string => (p === '' || isAbsolute(p) ? p : resolve(baseDir, p));
  const suites = config['cipher-suites'];
  return {
    certFile: path(cert),
    keyFile: path(text(config, side, 'key-file')),
    trustedCaFile: path(text(config, side, 'trusted-ca-file')),
    clientCertAuth: flag(config, side, 'client-cert-auth'),
    autoTls: cert === '' && autoTls,
    cipherSuites: suites === '' ? [] : suites.split(','),
    minVersion: config['tls-min-version'],
  };
}
