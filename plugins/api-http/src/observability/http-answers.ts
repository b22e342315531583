import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where a request came in: etcd's client port (CORS headers, /version) or its --listen-metrics-urls listener. */
export type Listener = 'client' | 'metrics';

/** etcd's default CORS headers on its client port (--cors "*"); its metrics listener sends none. */
const CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Origin': '*',
};

/** Go's text type, which net/http sniffs for etcd's JSON /health body too. */
export const TEXT_PLAIN = 'text/plain; charset=utf-8';

/** Answer with `body`, its length and the listener's headers, as Go's net/http writes a short answer. */
export function answer(response: ServerResponse, listener: Listener, status: number, headers: Readonly<Record<string, string>>, body: string): void {
  response.writeHead(status, { ...(listener === 'client' ? CORS_HEADERS : {}), ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
  response.end(body);
}

/** Go's http.Error: the text and a newline, as plain text that must not be sniffed. */
export function goError(response: ServerResponse, listener: Listener, status: number, text: string, headers: Readonly<Record<string, string>> = {}): void {
  answer(response, listener, status, { ...headers, 'Content-Type': TEXT_PLAIN, 'X-Content-Type-Options': 'nosniff' }, `${text}\n`);
}

/** etcd's health endpoints take GET only: anything else is Go's 405 with `Allow: GET`. */
export function refuseUnlessGet(request: IncomingMessage, response: ServerResponse, listener: Listener): boolean {
  if (request.method === 'GET') return false;
  goError(response, listener, 405, 'Method Not Allowed', { Allow: 'GET' });
  return true;
}

/** Every non-empty value of `name` in the query (`?exclude=a&exclude=b`). */
export function queryValues(query: URLSearchParams, name: string): string[] {
  return query.getAll(name).filter((v) => v !== '');
}
