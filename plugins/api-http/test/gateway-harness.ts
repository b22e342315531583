import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CairnServices } from '@cairn/core';
import { startTestMember, TemporaryDirectories } from '@cairn/core/testkit';
import { GatewayRoute } from '../src/gateway/gateway-route.js';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** A streaming answer read as it arrives: the text so far, and a way to wait for more. */
export interface OpenStream {
  readonly status: Promise<number>;
  readonly headers: Promise<IncomingHttpHeaders>;
  /** Everything received so far. */
  text(): string;
  /** Resolves once the received text satisfies `done` (or rejects after `timeoutMs`). */
  until(done: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves when the server ended the answer. */
  readonly ended: Promise<void>;
  /** Drop the connection, as a client that goes away. */
  close(): void;
}

/**
 * A member assembled as `cairn` assembles one (in this process, in memory) and the gateway route
 * served on a loopback HTTP server of the test, as the gRPC frontend's client port would serve it.
 */
export class GatewayHarness {
  private constructor(
    readonly services: CairnServices,
    readonly port: number,
    private readonly server: Server,
    private readonly stopMember: () => Promise<void>,
    private readonly dirs: TemporaryDirectories,
  ) {}

  static async start(settings: { maxRequestBytes: number } = { maxRequestBytes: 1.5 * 1024 * 1024 }): Promise<GatewayHarness> {
    const dirs = new TemporaryDirectories('cairn-gateway');
    const member = await startTestMember({ dataDir: await dirs.make() });
    const route = new GatewayRoute(settings);
    const server = createServer((request, response) => {
      if (route.serve(request, response, member.services)) return;
      response.writeHead(404);
      response.end('404 page not found\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    return new GatewayHarness(member.services, port, server, () => member.stop(), dirs);
  }

  /** One request; the whole answer. */
  request(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: this.port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return this.request('POST', path, typeof body === 'string' ? body : JSON.stringify(body), headers);
  }

  /** A request whose answer stays open; `body` of undefined leaves the request body open too (written with `write`). */
  open(method: string, path: string, body: string | undefined, headers: Record<string, string> = {}): OpenStream & { write(text: string): void } {
    let received = '';
    const waiters: (() => void)[] = [];
    let resolveStatus!: (status: number) => void;
    let resolveHeaders!: (headers: IncomingHttpHeaders) => void;
    let resolveEnded!: () => void;
    const status = new Promise<number>((r) => (resolveStatus = r));
    const answerHeaders = new Promise<IncomingHttpHeaders>((r) => (resolveHeaders = r));
    const ended = new Promise<void>((r) => (resolveEnded = r));
    const req = httpRequest({ host: '127.0.0.1', port: this.port, method, path, headers }, (res) => {
      resolveStatus(res.statusCode!);
      resolveHeaders(res.headers);
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        received += c;
        for (const w of waiters.splice(0)) w();
      });
      res.on('end', () => resolveEnded());
      res.on('error', () => resolveEnded());
    });
    req.on('error', () => resolveEnded());
    if (body !== undefined) req.end(body);
    else req.flushHeaders();
    return {
      status,
      headers: answerHeaders,
      ended,
      text: () => received,
      write: (text: string) => req.write(text),
      until: (done, timeoutMs = 5000) =>
        new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`timed out waiting; received so far:\n${received}`)), timeoutMs);
          const check = (): void => {
            if (done(received)) {
              clearTimeout(timer);
              resolve(received);
            } else {
              waiters.push(check);
            }
          };
          check();
        }),
      close: () => req.destroy(),
    };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.stopMember();
    await this.dirs.removeAll();
  }
}

/** base64 of a string, as the gateway's JSON carries keys and values. */
export const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** The `{"result": ...}` objects of a newline-delimited JSON stream so far. */
export const results = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
