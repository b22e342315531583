import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { crc32 } from 'node:zlib';
import { EMPTY_SETTINGS, HTTP2_PREFACE } from '@cairn/core/testkit';
import { RawWatchStream } from './watch-client.js';

export { EMPTY_SETTINGS, HTTP2_PREFACE, silentAfter, type RawOutcome } from '@cairn/core/testkit';

/**
 * Hostile and merely numerous clients for the hostile-input test and the RSS bench: raw sockets
 * that send garbage, half a handshake or nothing, idle HTTP/2 connections, and many watchers.
 */

/** A process's resident set from /proc (VmRSS), in MiB. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

const SETTINGS_ACK = Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]);

/** Bytes that look like nothing: xorshift noise from `seed`. */
export function noise(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed | 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Cairn's peer framing, written here from its description (so the test does not borrow the
 * transport's encoder): u32 body length, u32 CRC-32 of the body, then the body: a type byte
 * (1 = Hello) and its payload. A Hello's payload: "CAIRNRFT", u16 protocol version, u8 connection
 * kind (1 = messages), then cluster ID, sender and addressee as u16-length UTF-8 strings.
 */
export function peerHelloFrame(clusterId: string, from: string, to: string, version = 2): Buffer {
  const str = (s: string): Buffer => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length);
    return Buffer.concat([len, b]);
  };
  const versionBytes = Buffer.alloc(2);
  versionBytes.writeUInt16BE(version);
  const body = Buffer.concat([Buffer.from([1]), Buffer.from('CAIRNRFT', 'ascii'), versionBytes, Buffer.from([1]), str(clusterId), str(from), str(to)]);
  return Buffer.concat([peerFrameHeader(body.length, crc32(body)), body]);
}

/** A peer frame header announcing `bodyBytes` with `checksum`. */
export function peerFrameHeader(bodyBytes: number, checksum = 0): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(bodyBytes >>> 0, 0);
  head.writeUInt32BE(checksum >>> 0, 4);
  return head;
}

/**
 * Idle HTTP/2 client connections: each sends the preface and an empty SETTINGS, acknowledges the
 * server's SETTINGS, and then says nothing more: what an idle gRPC client costs the server.
 */
export class IdleHttp2Connections {
  private readonly sockets: Socket[] = [];
  private closedCount = 0;

  /** Opens `count` connections to 127.0.0.1:`port`, `batch` connects at a time (within the listen backlog). */
  static async open(port: number, count: number, batch = 250): Promise<IdleHttp2Connections> {
    const idle = new IdleHttp2Connections();
    for (let done = 0; done < count; done += batch) {
      await Promise.all(Array.from({ length: Math.min(batch, count - done) }, () => idle.openOne(port)));
    }
    return idle;
  }

  get open(): number {
    return this.sockets.length - this.closedCount;
  }

  get closed(): number {
    return this.closedCount;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
  }

  private openOne(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.write(Buffer.concat([HTTP2_PREFACE, EMPTY_SETTINGS]));
      });
      let acknowledged = false;
      socket.on('data', () => {
        // The server's first frame is its SETTINGS: acknowledge it once, then ignore whatever comes.
        if (acknowledged) return;
        acknowledged = true;
        socket.write(SETTINGS_ACK);
        resolve();
      });
      socket.once('error', (err) => {
        if (!acknowledged) reject(err);
      });
      socket.on('close', () => {
        this.closedCount++;
        if (!acknowledged) reject(new Error('the server closed an HTTP/2 connection before its SETTINGS'));
      });
      this.sockets.push(socket);
    });
  }
}

/** Many watches over a few Watch streams: `streams` × `perStream`, each on its own key `${prefix}${stream}/${i}`. */
export class ManyWatchers {
  private constructor(
    readonly streams: readonly RawWatchStream[],
    readonly prefix: string,
  ) {}

  /** Creates every watch and waits until each stream has confirmed all of its creates. */
  static async open(endpoint: string, streams: number, perStream: number, prefix: string): Promise<ManyWatchers> {
    const opened = Array.from({ length: streams }, () => new RawWatchStream(endpoint));
    await Promise.all(
      opened.map(async (stream, s) => {
        for (let i = 0; i < perStream; i++) stream.create({ key: Buffer.from(`${prefix}${s}/${i}`) });
        for (let created = 0; created < perStream;) {
          const response = await stream.next();
          if (response.created) created++;
        }
      }),
    );
    return new ManyWatchers(opened, prefix);
  }

  keyOf(stream: number, i: number): string {
    return `${this.prefix}${stream}/${i}`;
  }

  /** The next event on stream `s`, with a deadline. */
  async nextEvent(s: number, timeoutMs: number): Promise<{ key: string; value: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await this.streams[s]!.next(Math.max(1, deadline - Date.now()));
      const event = response.events[0];
      if (event !== undefined) return { key: event.kv.key.toString(), value: event.kv.value.toString() };
    }
  }

  close(): void {
    for (const s of this.streams) s.close();
  }
}
