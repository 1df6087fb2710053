import type { RequestOptions } from 'node:https';
import { Pool } from 'undici';
import {
  ResourceConflictError,
  ResourceGoneError,
  ResourceInvalidError,
  ResourceNotFoundError,
  ResourceStoreError,
} from '../errors.js';
import type { OperatorMetrics } from '../../runtime/metrics.js';
import type { KubeCredentials } from './kubeconfig.js';

/** A Kubernetes `Status` object, as error answers carry it. */
interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

export interface KubeClientOptions {
  /** Connections to the API server (watches hold one each). Default 48. */
  connections?: number;
  /** One request (not a watch); default 30 s. */
  timeoutMs?: number;
  metrics?: OperatorMetrics;
  /** Credentials are re-read from the kubeconfig this often (rotated tokens, exec plugins). Default 60 s. */
  credentialRefreshMs?: number;
}

export interface WatchLine {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

/**
 * A small Kubernetes REST client on undici, for the few endpoints the operator uses (custom resources, their
 * status, Secrets, Leases, Events). Credentials and TLS come from `@kubernetes/client-node`'s KubeConfig (which
 * knows kubeconfig files, in-cluster service accounts and exec plugins); the transport is ours so that watches
 * can be aborted and supervised, every request is counted, and 10,000 objects do not cost 10,000 TLS contexts.
 *
 * @example
 * const kube = await KubeClient.connect(kubeConfig);
 * const lease = await kube.request('GET', '/apis/coordination.k8s.io/v1/namespaces/ns/leases/x');
 */
export class KubeClient {
  /** Requests sent (watches included), for the benchmark's requests-per-session figure. */
  requests = 0;
  private headers: Record<string, string> = {};
  private headersAt = 0;

  private constructor(
    private readonly kubeConfig: KubeCredentials,
    readonly server: string,
    private readonly pool: Pool,
    private readonly options: KubeClientOptions,
  ) {}

  static async connect(kubeConfig: KubeCredentials, options: KubeClientOptions = {}): Promise<KubeClient> {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig names no current cluster');
    const tls: RequestOptions = {};
    await kubeConfig.applyToHTTPSOptions(tls);
    const pool = new Pool(cluster.server, {
      connections: options.connections ?? 48,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: {
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        rejectUnauthorized: tls.rejectUnauthorized ?? true,
        ...(tls.servername ? { servername: tls.servername } : {}),
      },
    });
    const client = new KubeClient(kubeConfig, cluster.server.replace(/\/+$/, ''), pool, options);
    client.setHeaders(tls);
    return client;
  }

  /** A JSON request; Kubernetes errors become the store's typed errors. `undefined` for 404 when `allow404`. */
  async request<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options: { body?: unknown; contentType?: string; query?: Record<string, string | undefined> } = {},
  ): Promise<T> {
    const headers = await this.authHeaders();
    this.requests++;
    const verb = method.toLowerCase();
    let status = 0;
    try {
      const answer = await this.pool.request({
        method,
        path: withQuery(path, options.query),
        headers: {
          ...headers,
          accept: 'application/json',
          ...(options.body === undefined
            ? {}
            : { 'content-type': options.contentType ?? 'application/json' }),
        },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        headersTimeout: this.options.timeoutMs ?? 30_000,
        bodyTimeout: this.options.timeoutMs ?? 30_000,
      });
      status = answer.statusCode;
      const text = await answer.body.text();
      const parsed = text === '' ? {} : (JSON.parse(text) as unknown);
      if (status >= 400) throw statusError(status, parsed as KubeStatus, `${method} ${path}`);
      return parsed as T;
    } catch (error) {
      if (error instanceof ResourceStoreError) throw error;
      throw new ResourceStoreError(`${method} ${path}: ${(error as Error).message}`, 503, { cause: error });
    } finally {
      this.options.metrics?.kubeRequests.inc({ verb, code: String(status || 'error') });
    }
  }

  /**
   * A watch: calls `onLine` for each event until the server ends it (`onEnd(undefined)`) or it fails
   * (`onEnd(error)`). Silence is not detected here: the informer's watchdog does that.
   */
  watch(
    path: string,
    query: Record<string, string | undefined>,
    onLine: (line: WatchLine) => void,
    onEnd: (error: Error | undefined) => void,
  ): { stop(): void } {
    const abort = new AbortController();
    let ended = false;
    const end = (error: Error | undefined) => {
      if (ended) return;
      ended = true;
      onEnd(error);
    };
    void (async () => {
      const headers = await this.authHeaders();
      this.requests++;
      const answer = await this.pool.request({
        method: 'GET',
        path: withQuery(path, { ...query, watch: 'true' }),
        headers: { ...headers, accept: 'application/json' },
        signal: abort.signal,
        headersTimeout: this.options.timeoutMs ?? 30_000,
        bodyTimeout: 0,
      });
      this.options.metrics?.kubeRequests.inc({ verb: 'watch', code: String(answer.statusCode) });
      if (answer.statusCode >= 400) {
        const text = await answer.body.text();
        throw statusError(answer.statusCode, safeJson(text) as KubeStatus, `WATCH ${path}`);
      }
      let buffer = '';
      for await (const chunk of answer.body) {
        buffer += (chunk as Buffer).toString('utf8');
        let newline = buffer.indexOf('\n');
        while (newline !== -1) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (line !== '') onLine(JSON.parse(line) as WatchLine);
          newline = buffer.indexOf('\n');
        }
      }
      end(undefined);
    })().catch((error: unknown) => {
      if (abort.signal.aborted) return end(undefined);
      end(error instanceof Error ? error : new Error(String(error)));
    });
    return {
      stop: () => {
        ended = true;
        abort.abort();
      },
    };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async authHeaders(): Promise<Record<string, string>> {
    const refresh = this.options.credentialRefreshMs ?? 60_000;
    if (Date.now() - this.headersAt > refresh) {
      const options: RequestOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(options);
      this.setHeaders(options);
    }
    return this.headers;
  }

  private setHeaders(options: RequestOptions): void {
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(options.headers ?? {})) {
      if (typeof value === 'string' || typeof value === 'number') headers[key.toLowerCase()] = String(value);
    }
    if (options.auth) headers['authorization'] = `Basic ${Buffer.from(options.auth).toString('base64')}`;
    this.headers = headers;
    this.headersAt = Date.now();
  }
}

/** A Kubernetes error answer → the store's typed error, with the API server's own message. */
export function statusError(status: number, body: KubeStatus | undefined, what: string): ResourceStoreError {
  const message = `${what}: ${body?.message ?? `HTTP ${status}`}`;
  switch (status) {
    case 404:
      return new ResourceNotFoundError(message);
    case 409:
      return new ResourceConflictError(message, body?.reason === 'AlreadyExists');
    case 410:
      return new ResourceGoneError(message);
    case 422:
      return new ResourceInvalidError(message);
    default:
      return new ResourceStoreError(message, status);
  }
}

function withQuery(path: string, query: Record<string, string | undefined> | undefined): string {
  const entries = Object.entries(query ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
  if (entries.length === 0) return path;
  return `${path}?${new URLSearchParams(entries).toString()}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}
