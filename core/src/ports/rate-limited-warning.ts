import type { LogFields, Logger } from './logger.js';

/**
 * A warning that a stranger can trigger at will (a refused handshake, a wrong password, a forged token, a plain-text client on a TLS
 * port): the first of each interval is logged, the rest only counted and reported with the next
 * line, so a flood cannot fill the disk with logs.
 */
export class RateLimitedWarning {
  private last = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger | undefined,
    private readonly message: string,
    private readonly intervalMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: LogFields): void {
    const at = this.now();
    if (at - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.last = at;
    const extra = this.suppressed > 0 ? { suppressed: this.suppressed } : {};
    this.suppressed = 0;
    this.logger?.warn({ ...fields, ...extra }, this.message);
  }
}
