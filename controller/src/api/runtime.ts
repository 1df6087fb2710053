import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { issuerAuthenticators } from '../auth/authenticators.js';
import { DpopGate, DpopNonces } from '../auth/dpop-proof.js';
import { MemoryReplayCache } from '../auth/dpop-replay-cache.js';
import { ChainAuthenticator, StaticTokenAuthenticator, type Authenticator } from '../auth/identity.js';
import type { Config } from '../config/config.js';
import { buildApiServer } from './server.js';
import { FilePeeringDb } from '../peeringdb/files.js';
import { LivePeeringDb } from '../peeringdb/live.js';
import type { PeeringDb } from '../peeringdb/peeringdb.js';
import { Receiver } from '../receiver/receiver.js';
import { SqliteSessionStore } from '../store/sqlite.js';
import type { SessionStore } from '../store/store.js';
import { PeeringError } from '../domain/errors.js';
import { Logger, fastifyLogger } from '../operator/runtime/logger.js';

export interface ApiRuntime {
  app: FastifyInstance;
  receiver: Receiver;
  store: SessionStore;
  /** Where it listens, e.g. `http://127.0.0.1:8080`. */
  origin: string;
  /** `origin` + base path. */
  baseUrl: string;
  close(): Promise<void>;
}

export interface ApiRuntimeOptions {
  /** Folder the configuration came from: relative paths in it are read from there. */
  configDir?: string;
  listen?: string;
  dataDir?: string;
  /** The operator's logger (the API's lines join its JSON stream), or Fastify's own (pino) settings. */
  logger?: Logger | boolean | { level: string };
  /** Extra authenticators, tried after the static tokens and before the issuers of `auth.issuers`. */
  authenticators?: Authenticator[];
  peeringDb?: PeeringDb;
  store?: SessionStore;
  /**
   * Enforce the time window with a sweep of the store every minute (default true, for `peering-operator serve`).
   * Off under the operator: there the leader's session reconciler applies the same rule, and a sweep would run
   * on every replica, the standby included, and list every inbound session each minute.
   */
  timeWindowSweep?: boolean;
}

/** The PeeringDB source the configuration names. */
export async function openPeeringDb(config: Config, configDir = process.cwd()): Promise<PeeringDb> {
  if (config.peeringdb.dataDir !== undefined) {
    return FilePeeringDb.load(resolvePath(configDir, config.peeringdb.dataDir));
  }
  const apiKey = config.peeringdb.apiKeyEnv ? process.env[config.peeringdb.apiKeyEnv] : undefined;
  return new LivePeeringDb({ url: config.peeringdb.url as string, apiKey });
}

/** Static tokens of the configuration, with their `tokenEnv` indirections resolved. */
export function staticAuthenticator(config: Config): StaticTokenAuthenticator {
  return new StaticTokenAuthenticator(
    config.auth.staticTokens.map((t, i) => {
      const token = t.token ?? (t.tokenEnv ? process.env[t.tokenEnv] : undefined);
      if (!token) {
        throw new PeeringError(
          'INVALID_CONFIG',
          `environment variable ${t.tokenEnv} is not set`,
          `auth.staticTokens[${i}].tokenEnv`,
        );
      }
      return { token, subject: t.subject, email: t.email, networks: t.networks };
    }),
  );
}

/** Starts the Peering API server on the embedded store, as `peering-operator serve` does. */
export async function startApiRuntime(config: Config, options: ApiRuntimeOptions = {}): Promise<ApiRuntime> {
  const configDir = options.configDir ?? process.cwd();
  const dataDir = resolvePath(configDir, options.dataDir ?? config.store.dataDir);
  const store = options.store ?? new SqliteSessionStore(dataDir);
  const peeringDb = options.peeringDb ?? (await openPeeringDb(config, configDir));
  const receiver = new Receiver({
    store,
    peeringDb,
    policy: {
      ourAsns: config.asns,
      approval: config.policy.approval,
      allowAsns: config.policy.allowAsns,
      denyAsns: config.policy.denyAsns,
      maxPendingSessionsPerPeer: config.policy.maxPendingSessionsPerPeer,
      maxSessionsPerRequest: config.policy.maxSessionsPerRequest,
      allowLoopbackEndpoints: config.policy.allowLoopbackEndpoints,
    },
  });
  const pageKey = pageTokenKey(dataDir, config.store.pageTokenKeyEnv);
  const app = await buildApiServer({
    receiver,
    // Static tokens first: a local digest comparison, so they keep working while an identity provider is down.
    authenticator: new ChainAuthenticator([
      staticAuthenticator(config),
      ...(options.authenticators ?? []),
      ...issuerAuthenticators(config),
    ]),
    pageTokenKey: pageKey,
    dpop: dpopGate(config, pageKey),
    apiUrl: config.apiUrl,
    basePath: config.basePath,
    bodyLimit: config.limits.bodyBytes,
    pageSize: config.limits.pageSize,
    requestsPerMinute: config.limits.requestsPerMinute,
    ...(options.logger instanceof Logger
      ? { loggerInstance: fastifyLogger(options.logger) }
      : { logger: options.logger ?? false }),
    ready: async () => {
      await store.countByStatus(0, 'pending');
    },
  });
  const listen = options.listen ?? config.listen;
  const separator = listen.lastIndexOf(':');
  const host = listen.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(separator + 1));
  await app.listen({ host, port });
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  // Unref'd so it never keeps a process alive on its own.
  const sweep =
    options.timeWindowSweep === false
      ? undefined
      : setInterval(
          () => void receiver.expireSessions(config.policy.timeWindow).catch(() => undefined),
          60_000,
        );
  sweep?.unref();
  return {
    app,
    receiver,
    store,
    origin,
    baseUrl: `${origin}${config.basePath}`,
    close: async () => {
      clearInterval(sweep);
      await app.close();
      await store.close();
    },
  };
}

/**
 * The page-token secret: shared by all replicas when the configuration names an environment variable for it,
 * else made once per data folder so that tokens survive a restart.
 */
function pageTokenKey(dataDir: string, keyEnv: string | undefined): Buffer {
  if (keyEnv !== undefined) {
    const key = Buffer.from(process.env[keyEnv] ?? '', 'base64');
    if (key.length < 32) {
      throw new PeeringError(
        'INVALID_CONFIG',
        `${keyEnv} must hold at least 32 bytes, base64-encoded`,
        'store.pageTokenKeyEnv',
      );
    }
    return key;
  }
  if (dataDir === ':memory:') return randomBytes(32);
  const path = join(dataDir, 'page-token.key');
  if (existsSync(path)) return readFileSync(path);
  mkdirSync(dirname(path), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(path, key, { mode: 0o600, flag: 'wx' });
  return key;
}

/**
 * The DPoP gate of `auth.policy`, `auth.callers` and `auth.dpop`; nonces keyed from the shared page-token key, or
 * under `nonceScope: replica` from a key of this process alone.
 */
function dpopGate(config: Config, secret: Buffer): DpopGate {
  const dpop = config.auth.dpop;
  return new DpopGate(
    {
      policy: config.auth.policy,
      byAsn: new Map(config.auth.callers.map((caller) => [caller.asn, caller.policy])),
    },
    {
      algorithms: dpop.algorithms,
      proofWindowMs: dpop.proofWindow,
      replayCache: new MemoryReplayCache({ maxEntries: dpop.replayCacheEntries }),
      nonces: dpop.nonces
        ? new DpopNonces(
            // A replica-scoped nonce key is the shared one plus random bytes of this process only.
            dpop.nonceScope === 'replica' ? Buffer.concat([secret, randomBytes(32)]) : secret,
            { lifetimeMs: dpop.nonceLifetime },
          )
        : undefined,
    },
  );
}

export function resolvePath(base: string, path: string): string {
  return path === ':memory:' || isAbsolute(path) ? path : resolve(base, path);
}
