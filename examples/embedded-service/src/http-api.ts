import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type CounterService, UnknownCounterError } from './counter-service.js';

function reply(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify(body)}\n`);
}

async function route(service: CounterService, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const match = /^\/counters\/([^/]+)$/.exec(request.url ?? '');
  if (match === null) return reply(response, 404, { error: 'not found: use /counters/<name>' });
  const name = decodeURIComponent(match[1]!);
  if (request.method === 'GET') return reply(response, 200, { name, value: (await service.value(name)).toString() });
  if (request.method === 'POST') return reply(response, 200, { name, value: (await service.increment(name)).toString() });
  return reply(response, 405, { error: 'use GET or POST' });
}

/** `GET /counters/<name>` reads a counter, `POST /counters/<name>` adds one; answers are JSON. */
export function counterHttpServer(service: CounterService): Server {
  return createServer((request, response) => {
    route(service, request, response).catch((err: unknown) => {
      reply(response, err instanceof UnknownCounterError ? 400 : 500, { error: (err as Error).message });
    });
  });
}
