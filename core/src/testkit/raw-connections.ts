import { connect } from 'node:net';

/** The HTTP/2 client preface (RFC 9113 §3.4). */
export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** An HTTP/2 SETTINGS frame with no settings: length 0, type 4, no flags, stream 0. */
export const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

/** What became of a raw connection that sent some bytes and then nothing. */
export interface RawOutcome {
  /** Milliseconds from connect until the server closed it; undefined: still open when the test gave up. */
  readonly closedAfterMs: number | undefined;
  /** Everything the server wrote (latin1). */
  readonly answer: string;
}

/**
 * Connects to 127.0.0.1:`port`, writes `chunks`, then stays silent until the server closes or
 * `giveUpMs` passes: how a test sees whether a port drops a slowloris, and what it said first.
 */
export function silentAfter(port: number, chunks: readonly Uint8Array[], giveUpMs: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    let began = Date.now();
    const answer: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port }, () => {
      began = Date.now();
      for (const c of chunks) socket.write(c);
    });
    const giveUp = setTimeout(() => {
      socket.destroy();
      resolve({ closedAfterMs: undefined, answer: Buffer.concat(answer).toString('latin1') });
    }, giveUpMs);
    socket.on('data', (chunk: Buffer) => answer.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - began, answer: Buffer.concat(answer).toString('latin1') });
    });
  });
}
