import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { authorityOf } from './authority-rule.js';
import { AuthorityRewritingStream } from './authority-rewriting-stream.js';
import { ConnectionSniffer, DEFAULT_MAX_SNIFF_BYTES, type SniffVerdict } from './connection-sniffer.js';
import { FrameType, frameBytes, readSettings } from './http2-frame.js';

/**
 * How long a connection may stay silent before its first request is seen. After that it goes
 * through the repairing stream: correct for any authority its requests turn out to carry, at the
 * cost of the stream's copying — where going straight through would break etcd clients whose
 * authority is bad (clientv3 3.5.0 dials at New() and may send its first request much later).
 */
export const DEFAULT_SNIFF_TIMEOUT_MS = 1000;

export interface AuthorityRepairOptions {
  readonly sniffTimeoutMs?: number;
  readonly maxSniffBytes?: number;
  /**
   * The SETTINGS payload the listener sends before the server has the connection; it must equal
   * the server's own first SETTINGS. The gRPC server sends Node's defaults, an empty SETTINGS
   * frame, unless `maxConcurrentStreams` is set (a test checks the two match).
   */
  readonly serverSettings?: Buffer;
  /** False once the frontend is stopping: a connection still being sniffed is then closed, not handed over. */
  readonly live?: () => boolean;
  /** Told where each connection went (tests, logs). */
  readonly onVerdict?: (verdict: SniffVerdict) => void;
}

/**
 * The client port's HTTP/2 route with the repair of `:authority` values Node's HTTP/2 server
 * refuses (etcdctl 3.4's `http://127.0.0.1:2379` for Status/HashKV/Defragment, clientv3 3.5.0's
 * `#initially=[...]`). Each connection is sniffed up to its first request: if no header block seen
 * has a rejected authority it goes to `accept` as the socket itself and costs nothing more;
 * otherwise through an AuthorityRewritingStream. etcd's Go clients keep one authority per
 * connection (it is fixed when the connection is dialled), which is what makes the first
 * request's authority speak for the connection's.
 */
export function repairingAuthority(accept: (connection: Duplex) => void, options: AuthorityRepairOptions = {}): (socket: Socket) => void {
  const settingsPayload = options.serverSettings ?? Buffer.alloc(0);
  const earlySettings = readSettings(settingsPayload);
  const settingsFrame = frameBytes({ length: settingsPayload.length, type: FrameType.SETTINGS, flags: 0, streamId: 0 }, settingsPayload);
  const timeoutMs = options.sniffTimeoutMs ?? DEFAULT_SNIFF_TIMEOUT_MS;
  const live = options.live ?? ((): boolean => true);
  return (socket) => {
    // grpc-go sends no request until it has the server's SETTINGS: send them now.
    socket.write(settingsFrame);
    const sniffer = new ConnectionSniffer(earlySettings, options.maxSniffBytes ?? DEFAULT_MAX_SNIFF_BYTES);
    const settle = (verdict: SniffVerdict): void => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('error', onError);
      socket.off('close', onClose);
      options.onVerdict?.(verdict);
      if (!live()) {
        socket.destroy();
        return;
      }
      if (verdict.route === 'direct') {
        socket.unshift(verdict.bytes);
        accept(socket);
        return;
      }
      const replacement = authorityOf(socket.localAddress ?? '127.0.0.1', socket.localPort ?? 0);
      accept(new AuthorityRewritingStream(socket, verdict.bytes, { replacement, earlySettings }));
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        const verdict = sniffer.push(chunk);
        if (verdict !== undefined) {
          settle(verdict);
          return;
        }
      }
    };
    const onError = (): void => {
      socket.destroy();
    };
    const onClose = (): void => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
    };
    const timer = setTimeout(() => settle(sniffer.timeout()), timeoutMs);
    socket.on('readable', onReadable);
    socket.on('error', onError);
    socket.on('close', onClose);
  };
}
