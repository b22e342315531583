import bcrypt from 'bcrypt';
import { inject, injectable } from 'inversify';
import { MEMBER_SETTINGS, type MemberSettings } from '../ports/member-settings.js';

/**
 * bcrypt with `--bcrypt-cost`, on libuv's thread pool (the async API) so a hash or a comparison
 * never blocks the event loop. Failed comparisons are counted for the metrics: brute force shows.
 */
@injectable()
export class PasswordHasher {
  private failed = 0;

  constructor(@inject(MEMBER_SETTINGS) private readonly settings: Pick<MemberSettings, 'bcryptCost'>) {}

  async hash(password: string): Promise<Uint8Array> {
    return Buffer.from(await bcrypt.hash(password, this.settings.bcryptCost), 'utf8');
  }

  /** False for a wrong password, and for a stored hash bcrypt cannot read. */
  async matches(password: string, hash: Uint8Array): Promise<boolean> {
    let ok: boolean;
    try {
      ok = hash.length > 0 && (await bcrypt.compare(password, Buffer.from(hash).toString('utf8')));
    } catch {
      ok = false;
    }
    if (!ok) this.failed += 1;
    return ok;
  }

  private decoy: Promise<Uint8Array> | undefined;

  /**
   * An authentication of a user that does not exist (or has no password): refused after a
   * comparison as costly as a real one, so the answer's time tells no one which names exist, and
   * counted with the wrong passwords.
   */
  async refuseUnknown(password: string): Promise<false> {
    await this.matches(password, await (this.decoy ??= this.hash('\0decoy')));
    return false;
  }

  /** Authentications refused for a wrong password since start. */
  get failedCount(): number {
    return this.failed;
  }
}
