import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { ClientFrameRewriter } from './client-frame-rewriter.js';
import { ErrorCode, Http2ConnectionError, goawayFrame } from './http2-frame.js';
import { ServerSettingsObserver } from './server-settings-observer.js';
import { SettingsAckLedger } from './settings-ack-ledger.js';

export interface AuthorityRewritingOptions {
  /** What replaces a rejected authority: the listener's `host:port`. */
  readonly replacement: string;
  /** The SETTINGS the listener sent the client before the server had the connection. */
  readonly earlySettings: ReadonlyMap<number, number>;
}

/**
 * Sits between a client socket and the HTTP/2 server (the server takes it as its connection):
 * client bytes go through a ClientFrameRewriter, server bytes go to the socket unchanged and are
 * only watched for SETTINGS. A client that breaks HTTP/2 in a way the rewriter cannot pass on gets
 * a GOAWAY and is closed, as the server would have done.
 */
export class AuthorityRewritingStream extends Duplex {
  private readonly fromClient: ClientFrameRewriter;
  private readonly fromServer: ServerSettingsObserver;
  private readonly onData = (chunk: Buffer): void => this.fromSocket(chunk);
  /** A GOAWAY is on its way to the client: the socket closes once it is written. */
  private aborted = false;

  /** `replay`: bytes already read from the socket (from the preface on), handled before the rest. */
  constructor(
    private readonly socket: Socket,
    replay: Buffer,
    options: AuthorityRewritingOptions,
  ) {
    super();
    const ledger = new SettingsAckLedger(options.earlySettings);
    this.fromClient = new ClientFrameRewriter(options.replacement, ledger);
    this.fromServer = new ServerSettingsObserver(ledger);
    this.fromSocket(replay);
    if (this.aborted) return;
    socket.on('data', this.onData);
    socket.on('end', () => this.push(null));
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
  }

  // What grpc-js and Node's HTTP/2 session read off their connection.
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.socket.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }
  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.toSocket([chunk], callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.toSocket(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.aborted) this.socket.destroy();
    callback(error);
  }

  private fromSocket(chunk: Buffer): void {
    let out: Buffer[];
    try {
      out = this.fromClient.push(chunk);
    } catch (err) {
      this.abort(err);
      return;
    }
    let more = true;
    for (const bytes of out) more = this.push(bytes) && more;
    if (!more) this.socket.pause();
  }

  private toSocket(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    try {
      for (const chunk of chunks) this.fromServer.observe(chunk);
    } catch {
      // A malformed SETTINGS from the server is the server's to answer for; the ledger just misses it.
    }
    this.socket.cork();
    let more = true;
    for (const chunk of chunks) more = this.socket.write(chunk) && more;
    this.socket.uncork();
    if (more) callback();
    else this.socket.once('drain', () => callback());
  }

  /** The client broke HTTP/2: tell it why, as the server would, and close both sides. */
  private abort(err: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    const code = err instanceof Http2ConnectionError ? err.code : ErrorCode.PROTOCOL_ERROR;
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.end(goawayFrame(this.fromClient.lastStreamId, code), () => socket.destroy());
    this.push(null);
    this.destroy();
  }
}
