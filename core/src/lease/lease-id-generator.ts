import { inject, injectable } from 'inversify';
import { CLOCK, type Clock } from '../ports/clock.js';
import { MEMBER_IDENTITY, type MemberIdentity } from '../ports/member-identity.js';

/**
 * Lease IDs for grants that name none, chosen by the member that proposes the grant (so every
 * member applies the same ID). As etcd's request ID generator: the member's low 16 bits on top,
 * then wall-clock milliseconds at start and a counter below, kept positive (63 bits). Wall time,
 * not the monotonic clock, so a restarted member does not hand out its earlier IDs again.
 */
@injectable()
export class LeaseIdGenerator {
  private next: bigint;

  constructor(@inject(MEMBER_IDENTITY) identity: MemberIdentity, @inject(CLOCK) clock: Clock) {
    const memberId = BigInt(`0x${identity.memberId}`);
    const startMs = clock.epochMs();
    const prefix = (memberId & 0xffffn) << 48n;
    const suffix = (BigInt(Math.floor(startMs)) & 0xff_ffff_ffffn) << 8n;
    this.next = prefix | suffix;
  }

  generate(): bigint {
    for (;;) {
      this.next = (this.next + 1n) & 0xffff_ffff_ffff_ffffn;
      const id = this.next & 0x7fff_ffff_ffff_ffffn;
      if (id !== 0n) return id;
    }
  }
}
