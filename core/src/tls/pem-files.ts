import { readFileSync, statSync } from 'node:fs';

/** Where a side's PEM material lives. */
export interface PemPaths {
  readonly certFile: string;
  readonly keyFile: string;
  /** '' = no CA bundle. */
  readonly trustedCaFile: string;
}

/** The PEM bytes of a certificate chain, its key and the CA bundle (absent: none given). */
export interface PemMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
}

function read(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** What tells a changed file: inode (a rename over it), size and modification time. */
function stampOf(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return 'missing';
  }
}

/**
 * A side's PEM files, read at once and again when one changes on disk (checked by `changed()`:
 * a few stat calls, cheap enough for every new connection), so a rotated certificate is used
 * without a restart — etcd reloads its certificates per handshake.
 */
export class PemFiles {
  private stamps: string;

  constructor(readonly paths: PemPaths) {
    this.stamps = this.currentStamps();
  }

  /** Reads the files now; throws naming the flag and path of one that cannot be read. */
  read(): PemMaterial {
    const { certFile, keyFile, trustedCaFile } = this.paths;
    const material = { cert: read(certFile, 'cert-file'), key: read(keyFile, 'key-file') };
    return trustedCaFile === '' ? material : { ...material, ca: read(trustedCaFile, 'trusted-ca-file') };
  }

  /** True once after any file changed since the last call (or construction). */
  changed(): boolean {
    const now = this.currentStamps();
    if (now === this.stamps) return false;
    this.stamps = now;
    return true;
  }

  private currentStamps(): string {
    const { certFile, keyFile, trustedCaFile } = this.paths;
    return [certFile, keyFile, trustedCaFile].map((p) => (p === '' ? '' : stampOf(p))).join('|');
  }
}
