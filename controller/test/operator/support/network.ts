import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthPolicy } from '../../../src/auth/auth-policy.js';
import { parseConfig } from '../../../src/config/config.js';
import { embeddedBacking, type OperatorBacking } from '../../../src/operator/backing/backing.js';
import { startOperator, type OperatorOptions, type RunningOperator } from '../../../src/operator/operator.js';
import { silentLogger, type Logger } from '../../../src/operator/runtime/logger.js';
import type { PeeringRequest } from '../../../src/operator/resources/peering-request.js';
import type { RouterDriver } from '../../../src/router/driver.js';
import { outboundRequest } from '../fixtures/manifests.js';
import { EXAMPLES_DIR } from '../../support/sample.js';

export const PEERINGDB_DIR = join(EXAMPLES_DIR, 'peeringdb');

/** A static token network `holder` uses at the other network's API (at least 16 characters). */
export function tokenOf(holder: number): string {
  return `operator-test-token-as${holder}-000`;
}

/** Fast clocks for tests: polls and backoffs in hundreds of milliseconds instead of seconds and minutes. */
export const FAST: Pick<OperatorOptions, 'sessions' | 'queue' | 'informers' | 'resyncMs'> = {
  sessions: {
    poll: { minMs: 200, maxMs: 2_000, failureBaseMs: 300, establishedMs: 1_000 },
    observeMs: { waiting: 200, established: 1_000 },
  },
  queue: { backoff: { baseMs: 300, maxMs: 3_000 }, rateLimit: { perSecond: 200, burst: 200 } },
  informers: { silenceMs: 30_000, relistMs: 300_000 },
  resyncMs: 0,
};

export interface Network {
  asn: number;
  operator: RunningOperator;
  /** Our Peering API base URL (`http://127.0.0.1:port/v0.1`). */
  apiUrl: string;
  stop(): Promise<void>;
}

export interface NetworkOptions {
  asn: number;
  /** ASNs allowed to call our API, each with its own static token ({@link tokenOf}). */
  callers: number[];
  backing: OperatorBacking;
  router: RouterDriver;
  namespace: string;
  approval?: 'auto' | 'manual';
  timeWindow?: string;
  listen?: string;
  /** Identity issuers our API trusts besides the static tokens (`auth.issuers` of the configuration). */
  issuers?: { kind: 'jwt'; issuer: string }[];
  /** How callers must present their tokens, per caller ASN (`auth.callers`). */
  authCallers?: { asn: number; policy: AuthPolicy }[];
  logger?: Logger;
  extra?: Partial<OperatorOptions>;
}

/** One network's operator, serving its Peering API on loopback. */
export async function startNetwork(options: NetworkOptions): Promise<Network> {
  const config = parseConfig({
    asns: [options.asn],
    // Our public URL is where we listen when told (DPoP proofs name it); otherwise a fixed one, the audience of
    // the JWTs the tests get for us.
    apiUrl: options.listen ? `http://${options.listen}/v0.1` : 'http://127.0.0.1/v0.1',
    listen: options.listen ?? '127.0.0.1:0',
    peeringdb: { dataDir: PEERINGDB_DIR },
    store: { dataDir: ':memory:' },
    policy: { approval: options.approval ?? 'auto', timeWindow: options.timeWindow ?? '7d' },
    limits: { requestsPerMinute: 0 },
    auth: {
      issuers: options.issuers ?? [],
      callers: options.authCallers ?? [],
      staticTokens: options.callers.map((asn) => ({
        token: tokenOf(asn),
        subject: `noc-as${asn}`,
        networks: [{ asn, perms: 15 }],
      })),
    },
  });
  const operator = await startOperator({
    backing: options.backing,
    config,
    router: options.router,
    watchNamespace: options.namespace,
    inboundNamespace: options.namespace,
    api: { listen: options.listen ?? '127.0.0.1:0' },
    logger: options.logger ?? silentLogger,
    ...FAST,
    ...options.extra,
  });
  return {
    asn: options.asn,
    operator,
    apiUrl: operator.api?.baseUrl ?? '',
    stop: () => operator.stop(),
  };
}

/** An embedded backing in a temporary folder, removed by `cleanup()`. */
export function temporaryEmbeddedBacking(): { backing: ReturnType<typeof embeddedBacking>; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'peering-operator-'));
  return { backing: embeddedBacking(dir), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** AS64500 and AS64501 on embedded stores, each calling the other with a static token; A's token for B is in A's Secret `peer-b`. */
export interface NetworkPair {
  a: ReturnType<typeof temporaryEmbeddedBacking>;
  b: ReturnType<typeof temporaryEmbeddedBacking>;
  netA: Network;
  netB: Network;
  /** A's outbound request to B, for the example fixture's IPv4 session unless told which. */
  requestToB(name: string, sessions?: Parameters<typeof outboundRequest>[0]['sessions']): PeeringRequest;
  stop(): Promise<void>;
}

/** Starts two networks, B first (A asks B), on the given routers. */
export async function startNetworkPair(routers: { a: RouterDriver; b: RouterDriver }): Promise<NetworkPair> {
  const [A, B] = [64500, 64501];
  const a = temporaryEmbeddedBacking();
  const b = temporaryEmbeddedBacking();
  const netB = await startNetwork({
    asn: B,
    callers: [A],
    backing: b.backing,
    router: routers.b,
    namespace: 'default',
  });
  const netA = await startNetwork({
    asn: A,
    callers: [B],
    backing: a.backing,
    router: routers.a,
    namespace: 'default',
  });
  a.backing.secrets.replace(new Map([['default/peer-b', { token: tokenOf(A) }]]));
  return {
    a,
    b,
    netA,
    netB,
    requestToB: (name, sessions) =>
      outboundRequest({
        name,
        namespace: 'default',
        localAsn: A,
        peerAsn: B,
        peerApiUrl: netB.apiUrl,
        tokenSecret: 'peer-b',
        sessions,
      }),
    stop: async () => {
      await netA.stop();
      await netB.stop();
      a.cleanup();
      b.cleanup();
    },
  };
}
