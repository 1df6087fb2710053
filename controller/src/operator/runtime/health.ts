import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** A named check: `undefined` when fine, else what is wrong. */
export type HealthCheck = () => string | undefined;

export interface HealthServerOptions {
  /** `host:port`; port 0 picks a free one. */
  listen: string;
  /** Liveness: failing checks make the kubelet restart the pod. */
  live: Record<string, HealthCheck>;
  /** Readiness: failing checks take the pod out of Service endpoints. */
  ready: Record<string, HealthCheck>;
  registry: Registry;
}

export interface HealthServer {
  /** e.g. `http://127.0.0.1:8081`. */
  origin: string;
  close(): Promise<void>;
}

/**
 * `/healthz` (liveness), `/readyz` (readiness) and `/metrics` on a port of their own, apart from the Peering
 * API, so probes and scrapes never compete with peers for the API's rate limit.
 *
 * @example
 * const health = await startHealthServer({ listen: '0.0.0.0:8081', live: { lease: () => ... }, ready: {}, registry });
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const answer = (checks: Record<string, HealthCheck>) => {
      const failures = Object.entries(checks).flatMap(([name, check]) => {
        const problem = check();
        return problem === undefined ? [] : [`${name}: ${problem}`];
      });
      response.writeHead(failures.length === 0 ? 200 : 503, { 'content-type': 'text/plain' });
      response.end(failures.length === 0 ? 'ok\n' : `${failures.join('\n')}\n`);
    };
    if (path === '/healthz' || path === '/livez') return answer(options.live);
    if (path === '/readyz') return answer(options.ready);
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': options.registry.contentType });
          response.end(text);
        },
        () => {
          response.writeHead(500);
          response.end();
        },
      );
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found\n');
  });
  const separator = options.listen.lastIndexOf(':');
  const host = options.listen.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(options.listen.slice(separator + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
