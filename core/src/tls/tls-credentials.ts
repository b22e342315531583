import { join } from 'node:path';
import { createSecureContext, type ConnectionOptions, type SecureContextOptions, type TlsOptions } from 'node:tls';
import type { Logger } from '../ports/logger.js';
import type { TlsSettings } from '../ports/tls-settings.js';
import { clientTlsOptions, secureContextOptions, serverTlsOptions } from './node-tls-options.js';
import { PemFiles, type PemMaterial } from './pem-files.js';
import { ensureSelfSignedCertificate } from './self-signed-certificate.js';

/** Where a side's auto-TLS certificate is made, and for which hosts. */
export interface AutoTlsPlace {
  /** The member's data directory: the certificate goes to `<dataDir>/fixtures/<side>`, as etcd's. */
  readonly dataDir: string;
  readonly side: 'client' | 'peer';
  /** Host names and IPs the certificate must be valid for (the listen URLs' hosts). */
  readonly hosts: readonly string[];
}

/**
 * One side's TLS material as the node's TLS options, kept current with the files on disk:
 * `refresh()` (call it per new connection) re-reads them when they changed, and keeps the
 * previous material when the new one does not make a valid context (a half-written file, a key
 * of another certificate), with a warning.
 */
export class TlsCredentials {
  private material: PemMaterial;

  private constructor(
    readonly settings: TlsSettings,
    private readonly files: PemFiles,
    private readonly logger?: Logger,
  ) {
    this.material = files.read();
    // Fails now, with OpenSSL's reason, on a key that does not match or an unusable cipher list.
    checkContext(secureContextOptions(settings, this.material));
  }

  /** The settings' files, read and checked now (throws a message naming the flag on a bad one). */
  static fromFiles(settings: TlsSettings, logger?: Logger): TlsCredentials {
    return new TlsCredentials(settings, new PemFiles(settings), logger);
  }

  /** As `fromFiles`; under auto TLS, with a self-signed certificate made (or found) in the data dir first. */
  static async open(settings: TlsSettings, place: AutoTlsPlace, logger?: Logger): Promise<TlsCredentials> {
    if (!settings.autoTls) return TlsCredentials.fromFiles(settings, logger);
    const made = await ensureSelfSignedCertificate(join(place.dataDir, 'fixtures', place.side), place.hosts);
    return new TlsCredentials(settings, new PemFiles({ ...made, trustedCaFile: settings.trustedCaFile }), logger);
  }

  /** Re-reads the files if they changed on disk; true when new material is in use. */
  refresh(): boolean {
    if (!this.files.changed()) return false;
    try {
      const material = this.files.read();
      checkContext(secureContextOptions(this.settings, material));
      this.material = material;
      this.logger?.info({ certFile: this.files.paths.certFile }, 'TLS certificate reloaded');
      return true;
    } catch (err) {
      this.logger?.warn(
        { certFile: this.files.paths.certFile, reason: (err as Error).message },
        'changed TLS files not usable; keeping the previous certificate',
      );
      return false;
    }
  }

  /** For `tls.createServer` / `server.setSecureContext`: see `serverTlsOptions`. */
  serverOptions(): TlsOptions {
    return serverTlsOptions(this.settings, this.material);
  }

  /** For `server.setSecureContext` after a `refresh()`. */
  contextOptions(): SecureContextOptions {
    return secureContextOptions(this.settings, this.material);
  }

  /** For `tls.connect` (a member dialling its peers). */
  clientOptions(): ConnectionOptions {
    return clientTlsOptions(this.settings, this.material);
  }
}

function checkContext(options: SecureContextOptions): void {
  try {
    createSecureContext(options);
  } catch (err) {
    throw new Error(`TLS: ${(err as Error).message}`, { cause: err });
  }
}
