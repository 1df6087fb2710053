import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the fake peer saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  body: unknown;
  /** The client `request_id` of a POST body, if any. */
  requestId: string | undefined;
  authorization: string | undefined;
}

export type QuirkHandler = (request: SeenRequest, response: ServerResponse, index: number) => void;

/**
 * A deliberately awkward remote Peering API on node:http, 127.0.0.1 only: each test scripts the answers
 * (flipped readings, `messages` errors, 429s, stalls, cut-off bodies, endless streams) and reads back every
 * request it received, so that retry rules can be checked by counting.
 */
export class QuirkyPeer {
  readonly seen: SeenRequest[] = [];
  private handler: QuirkHandler = (_request, response) => json(response, 404, { errors: [] });
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server = createServer((req, res) => void this.handle(req, res));
  baseUrl = '';

  async start(): Promise<this> {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}/v0.1`;
    return this;
  }

  /** Scripts the next answers; the request log starts afresh. */
  answer(handler: QuirkHandler): void {
    this.seen.length = 0;
    this.handler = handler;
  }

  /** A timer stopped with the peer, for streams and stalls. */
  every(ms: number, tick: () => void): NodeJS.Timeout {
    const timer = setInterval(tick, ms);
    this.timers.add(timer);
    return timer;
  }

  posts(): SeenRequest[] {
    return this.seen.filter((r) => r.method === 'POST');
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const requestId =
      typeof body === 'object' && body !== null && 'request_id' in body
        ? String((body as { request_id: unknown }).request_id)
        : undefined;
    const seen: SeenRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      body,
      requestId,
      authorization: req.headers.authorization,
    };
    this.seen.push(seen);
    this.handler(seen, res, this.seen.length - 1);
  }
}

export function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  response.end(text);
}
