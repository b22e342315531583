import type { ChannelError, ChannelStream, WireMessage } from '@cairn/client';

/** Everything a channel stream delivers, in order, with a way to await the next message that matches. */
export class StreamRecorder<M extends WireMessage = WireMessage> {
  readonly messages: M[] = [];
  error: ChannelError | undefined;
  ended = false;
  private readonly waiters: (() => void)[] = [];
  private read = 0;

  constructor(stream: ChannelStream) {
    stream.on('data', (message) => this.note(() => this.messages.push(message as M)));
    stream.on('error', (error) => this.note(() => (this.error = error)));
    stream.on('end', () => this.note(() => (this.ended = true)));
  }

  private note(change: () => void): void {
    change();
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** The next message not yet taken that satisfies `match` (earlier non-matching ones are skipped). */
  async next(match: (message: M) => boolean = () => true, timeoutMs = 5000): Promise<M> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.read < this.messages.length) {
        const message = this.messages[this.read++]!;
        if (match(message)) return message;
      }
      if (this.error !== undefined) throw this.error;
      if (this.ended) throw new Error('stream ended');
      await this.change(deadline);
    }
  }

  /** Resolves once the stream failed or ended. */
  async finished(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.error === undefined && !this.ended) await this.change(deadline);
  }

  private change(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting on the stream')), Math.max(0, deadline - Date.now()));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
