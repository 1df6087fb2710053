import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultMode = 'pass' | 'down' | '500' | '429' | 'slow' | 'malformed';

/**
 * A loopback HTTP proxy in front of a real Peering API that can misbehave the ways peers do: be down (nothing
 * listening), answer 500 or 429, answer too slowly (and still forward, so the peer may act on a request whose
 * answer never arrives), or answer with broken JSON. It counts every request it sees.
 */
export class FaultProxy {
  mode: FaultMode = 'pass';
  /** How long `slow` waits before forwarding. */
  slowMs = 2_000;
  retryAfterSeconds = 2;
  readonly seen: { method: string; path: string; mode: FaultMode }[] = [];
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly target: URL) {}

  /** The URL to give the operator in place of the peer's (base path kept). */
  get url(): string {
    return `http://127.0.0.1:${this.port}${this.target.pathname}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** `down` closes the port (connection refused); any other mode reopens it on the same port. */
  async set(mode: FaultMode): Promise<void> {
    if (mode === 'down' && this.server) {
      const server = this.server;
      this.server = undefined;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    } else if (mode !== 'down' && !this.server) {
      await this.start();
    }
    this.mode = mode;
  }

  /** Requests seen since `from` (an index into `seen`). */
  since(from: number): { method: string; path: string; mode: FaultMode }[] {
    return this.seen.slice(from);
  }

  async stop(): Promise<void> {
    await this.set('down');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const mode = this.mode;
    this.seen.push({ method: req.method ?? '', path: req.url ?? '', mode });
    const body = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
    });
    if (mode === '500') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"errors":[{"name":"request","errors":["database on fire"],"code":"INTERNAL"}]}');
      return;
    }
    if (mode === '429') {
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': String(this.retryAfterSeconds),
      });
      res.end('{"errors":[{"name":"request","errors":["slow down"],"code":"RATE_LIMITED"}]}');
      return;
    }
    if (mode === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"request_id": "x", "sessions": [');
      return;
    }
    if (mode === 'slow') await new Promise((r) => setTimeout(r, this.slowMs));
    const upstream = httpRequest(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: this.target.host },
      },
      (answer) => {
        if (res.destroyed) {
          answer.resume();
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
    });
    upstream.end(body);
  }
}
