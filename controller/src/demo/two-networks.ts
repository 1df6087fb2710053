import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { DpopKey } from '../auth/dpop-key.js';
import { ClientCredentialsTokenSource } from '../auth/oauth-token-sources.js';
import { parseConfig, type ConfigInput } from '../config/config.js';
import { loadIssuerFixture } from '../issuer/accounts.js';
import { startIssuer, type RunningIssuer } from '../issuer/issuer.js';
import { embeddedBacking, type OperatorBacking } from '../operator/backing/backing.js';
import { startOperator, type OperatorOptions, type RunningOperator } from '../operator/operator.js';
import { API_VERSION } from '../operator/resources/api-group.js';
import type { PeeringRequest } from '../operator/resources/peering-request.js';
import { silentLogger, type Logger } from '../operator/runtime/logger.js';
import { FilePeeringDb } from '../peeringdb/files.js';
import { BirdRouterDriver, type SessionDefaults } from '../router/bird/bird-driver.js';
import { BirdProcess } from '../router/bird/bird-process.js';
import { FrrRouterDriver } from '../router/frr/frr-driver.js';
import { FrrProcess } from '../router/frr/frr-process.js';
import { FAST_BGP_TIMERS, type BgpTimers, type RouterDriver } from '../router/driver.js';

const execFileAsync = promisify(execFile);

/** The demo's exchange: the Loopback IX of `examples/demo/peeringdb/` (peering LAN 127.0.0.0/24). */
export const DEMO_LOCATION = 'pdb:ix:127';

/** One of the two demo networks, as `examples/demo/` describes it. */
export interface DemoNetworkPlan {
  asn: number;
  /** Its port on the Loopback IX (PeeringDB `netixlan.ipaddr4`): its BIRD's address and router id. */
  address: string;
  /** Prefixes it originates and announces to peers (its export filter lets exactly these out). */
  announce: readonly string[];
  /** Prefixes it originates for itself only: the export filter must keep them in. */
  internal: readonly string[];
  /** Its operator's OAuth client at the local issuer (examples/demo/issuer-accounts.yaml). */
  clientId: string;
  clientSecret: string;
}

/** AS64500 (the initiator) and AS64501 (the receiver), addresses as in the PeeringDB fixture. */
export const DEMO_NETWORKS: readonly [DemoNetworkPlan, DemoNetworkPlan] = [
  {
    asn: 64500,
    address: '127.0.0.2',
    announce: ['198.51.100.0/24'],
    internal: ['10.64.0.0/16'],
    clientId: 'as64500-operator',
    clientSecret: 'demo-secret-as64500-operator',
  },
  {
    asn: 64501,
    address: '127.0.0.3',
    announce: ['203.0.113.0/24'],
    internal: ['10.65.0.0/16'],
    clientId: 'as64501-operator',
    clientSecret: 'demo-secret-as64501-operator',
  },
];

/**
 * BGP timers for the demo and the end-to-end tests: a session comes up about a second after both ends are
 * configured, and a dead peer is noticed within three.
 */
export const DEMO_BGP_TIMERS: BgpTimers = FAST_BGP_TIMERS;

/**
 * How often the demo's operators look at their router and at the peer: every half second while a session is
 * coming up (the defaults, 15 s and 10 s, suit thousands of sessions, not a demo).
 */
export const DEMO_OPERATOR_TIMINGS: Pick<OperatorOptions, 'sessions' | 'queue' | 'resyncMs'> = {
  sessions: {
    poll: { minMs: 500, maxMs: 5_000, failureBaseMs: 500, establishedMs: 2_000 },
    observeMs: { waiting: 500, established: 2_000 },
  },
  queue: { backoff: { baseMs: 500, maxMs: 5_000 }, rateLimit: { perSecond: 100, burst: 100 } },
  resyncMs: 60_000,
};

/**
 * The routing policy of a demo network's BIRD, by the names its sessions use: `peer_out` announces exactly the
 * network's own public prefixes (never the internal ones, never what it learned), `peer_in` accepts the peer's
 * routes except overly specific ones and our own space.
 *
 * @example
 * demoFilters(DEMO_NETWORKS[0]); // 'filter peer_out { if proto = "announce4" && net ~ [ 198.51.100.0/24 ] …'
 */
export function demoFilters(plan: DemoNetworkPlan): string {
  const own = [...plan.announce, ...plan.internal];
  return `
filter peer_out {
  # Announce exactly our public prefixes, and only those we originate ourselves.
  if proto = "announce4" && net ~ [ ${plan.announce.join(', ')} ] then accept;
  reject;
}
filter peer_in {
  # Nothing more specific than a /24, nothing inside our own space.
  if net.len > 24 then reject;
  if net ~ [ ${own.map((p) => `${p}+`).join(', ')} ] then reject;
  accept;
}
`;
}

/**
 * The same routing policy as {@link demoFilters}, in FRR's words, for a demo network on FRR: `peer_out` lets
 * exactly the network's public prefixes out, `peer_in` refuses anything more specific than a /24 and anything in
 * the network's own space.
 */
export function demoFrrPolicy(plan: DemoNetworkPlan): string {
  const own = [...plan.announce, ...plan.internal];
  return [
    ...plan.announce.map((p, i) => `ip prefix-list demo-announce seq ${(i + 1) * 5} permit ${p}`),
    ...own.map((p, i) => `ip prefix-list demo-own seq ${(i + 1) * 5} permit ${p} le 32`),
    'ip prefix-list demo-too-specific seq 5 permit 0.0.0.0/0 ge 25',
    'route-map peer_out permit 10',
    ' match ip address prefix-list demo-announce',
    'exit',
    'route-map peer_in deny 10',
    ' match ip address prefix-list demo-own',
    'exit',
    'route-map peer_in deny 20',
    ' match ip address prefix-list demo-too-specific',
    'exit',
    'route-map peer_in permit 30',
    'exit',
    '',
  ].join('\n');
}

/** What every session on a demo router gets: the demo's BGP port, timers and filters, multihop on loopback. */
export function demoSessionDefaults(bgpPort: number): SessionDefaults {
  return {
    localPort: bgpPort,
    peerPort: bgpPort,
    timers: DEMO_BGP_TIMERS,
    // BIRD refuses next hops on the loopback interface for directly connected sessions (docs/router-bird.md).
    multihop: 2,
    importFilter: 'peer_in',
    exportFilter: 'peer_out',
  };
}

/** The peering-operator configuration of one demo network (written to `<dir>/peering-operator.yaml`). */
export function demoConfig(
  plan: DemoNetworkPlan,
  options: {
    apiPort: number;
    issuer: string;
    peeringDbDir: string;
    /** Send counter-requests (the draft's return_url flow) automatically, authenticated at the issuer. */
    counterRequests?: boolean;
    /** How inbound sessions are approved; default `auto`. */
    approval?: 'auto' | 'manual';
    /**
     * With `dpop+signature`, the other demo network (`peerAsn`) must prove its key and sign every request to this
     * one, and this one's counter-requests do the same; default `bearer`.
     */
    peerAuth?: PeerAuth;
    peerAsn?: number;
  },
): ConfigInput {
  const signed = options.peerAuth === 'dpop+signature';
  const counterRequests = options.counterRequests
    ? {
        mode: 'auto' as const,
        allowLoopbackTargets: true,
        credentials: {
          oauth2ClientCredentials: {
            issuer: options.issuer,
            clientId: plan.clientId,
            clientSecretRef: { name: COUNTER_REQUEST_SECRET, key: 'secret' },
            ...(signed
              ? { dpopKeySecretRef: { name: COUNTER_REQUEST_SECRET, key: DPOP_KEY_SECRET_KEY } }
              : {}),
          },
        },
      }
    : undefined;
  return {
    asns: [plan.asn],
    apiUrl: `http://127.0.0.1:${options.apiPort}/v0.1`,
    listen: `127.0.0.1:${options.apiPort}`,
    basePath: '/v0.1',
    peeringdb: { dataDir: options.peeringDbDir },
    store: { dataDir: 'store' },
    policy: {
      approval: options.approval ?? 'auto',
      timeWindow: '1h',
      allowLoopbackEndpoints: true,
      ...(counterRequests ? { counterRequests } : {}),
    },
    limits: { requestsPerMinute: 0 },
    auth: {
      issuers: [{ kind: 'jwt', issuer: options.issuer }],
      ...(signed && options.peerAsn !== undefined
        ? { callers: [{ asn: options.peerAsn, policy: 'dpop+signature' as const }] }
        : {}),
    },
  };
}

/**
 * How the two demo networks authenticate to each other: `bearer` tokens, or DPoP-bound tokens with a signature
 * on every request (the draft's M3), which each network then requires of the other.
 */
export type PeerAuth = 'bearer' | 'dpop+signature';

/** The key, in a network's peer-API Secret, of its DPoP private JWK. */
export const DPOP_KEY_SECRET_KEY = 'dpop.jwk';

/** The Secret holding a network's OAuth client secret for the counter-requests it sends. */
export const COUNTER_REQUEST_SECRET = 'counter-request-client';

/**
 * The IPv6 ports of the Loopback IX when the lab runs counter-requests: unique local addresses in a /64 of its
 * own per lab (labs may run side by side), put on the loopback interface for the run. AS64500 asks for IPv4
 * only, AS64501 asks back for IPv6.
 */
export interface LabIpv6 {
  prefix: string;
  /** AS64500's and AS64501's ports. */
  addresses: readonly [string, string];
}

function labIpv6(): LabIpv6 {
  const subnet = `fd00:127:0:${randomInt(1, 0xffff).toString(16)}`;
  return { prefix: `${subnet}::/64`, addresses: [`${subnet}::2`, `${subnet}::3`] };
}

/** Where one network's operator keeps its resources, and how a Secret gets there. */
export interface NetworkBacking {
  backing: OperatorBacking;
  /** The namespace its PeeringRequests, sessions and Secrets live in (also the inbound namespace). */
  namespace: string;
  /** Creates or replaces a Secret in `namespace` (the peer-API token lives in one). */
  putSecret(name: string, data: Record<string, string>): Promise<void>;
  /** Applies a PeeringRequest as a user would (`kubectl apply`); default: created through `backing`. */
  applyRequest?(request: PeeringRequest): Promise<void>;
  /** Deletes a PeeringRequest as a user would (`kubectl delete`); default: through `backing`. */
  deleteRequest?(name: string): Promise<void>;
  /**
   * For {@link TwoNetworksOptions.routerAgents}: declares a Router for the network's BIRD (speaking from its
   * address) and starts a router agent on `driver`, as a router host would run it.
   */
  startRouterAgent?(router: {
    name: string;
    kind: 'bird' | 'frr';
    addresses: string[];
    driver: RouterDriver;
  }): Promise<LabAgent>;
}

/** A router agent the lab started. */
export interface LabAgent {
  /** The Router resource it drives. */
  router: string;
  /** Graceful stop: it says goodbye on its Router. */
  stop(): Promise<void>;
  /** A crash: it stops without a word. */
  kill(): Promise<void>;
}

/** One demo network: its BIRD, its router driver and, when started, its operator. */
export interface LabNetwork {
  plan: DemoNetworkPlan;
  asn: number;
  /** `<workDir>/as<ASN>`: configuration, BIRD's folder, the store. */
  dir: string;
  /** Its configuration, as written to `configPath`. */
  config: ConfigInput;
  configPath: string;
  /** Which BGP daemon it runs ({@link TwoNetworksOptions.frr}). */
  routerKind: 'bird' | 'frr';
  /** Its BIRD; throws for a network on FRR (use `frr`). */
  bird: BirdProcess;
  /** Its FRR bgpd, for a network on FRR. */
  frr: FrrProcess | undefined;
  /** A new in-process driver for its router (BIRD or FRR), with its session defaults. */
  driver(): RouterDriver;
  /** Session defaults its router driver uses, also written to `<dir>/bird-sessions.yaml`. */
  sessionDefaults: SessionDefaults;
  /** `<dir>/manifests`: where `peering-operator run --standalone` reads PeeringRequests and Secrets from. */
  manifestsDir: string;
  /**
   * The arguments of `peering-operator run` that run this network's operator standalone on this lab's BIRD (its
   * store in `<dir>/store`, manifests from `manifestsDir`), for running it as a process of its own;
   * `healthListen` is its `/healthz`, `/readyz`, `/metrics` address (HOST:PORT, one per process).
   */
  runArgs(healthListen: string): string[];
  /** Its Peering API (`http://127.0.0.1:PORT/v0.1`); also the audience of JWTs for it. */
  apiUrl: string;
  apiPort: number;
  /** Present when the lab runs the operators in this process. */
  operator: RunningOperator | undefined;
  /** Its router agent, when the lab runs {@link TwoNetworksOptions.routerAgents}. */
  agent: LabAgent | undefined;
  /**
   * Starts a router agent for its router (the backing's `startRouterAgent`, on a new driver) and makes it
   * {@link LabNetwork.agent}; the lab stops whichever agent runs last. Only with router agents.
   */
  startAgent(): Promise<LabAgent>;
  backing: NetworkBacking | undefined;
  /** Its DPoP key (`<dir>/dpop.jwk`, mode 0600): the one its operator and {@link LabNetwork.tokens} use. */
  dpopKey: DpopKey;
  /** The private JWK of {@link LabNetwork.dpopKey}, as its Secrets hold it. */
  dpopKeyJwk: string;
  /**
   * This network's access tokens for `audience` (client credentials at the local issuer), DPoP-bound to its key
   * when the lab runs `dpop+signature`: a client given this source proves and signs each request.
   */
  tokens(audience: string): ClientCredentialsTokenSource;
  /**
   * A JWT access token of this network for `audience`: under `dpop+signature` bound to its key, so useful only
   * with the key (`peeringctl --dpop-key`), as the demo shows; a bearer token under `bearer`.
   */
  token(audience: string): Promise<string>;
}

export interface TwoNetworks {
  workDir: string;
  issuer: RunningIssuer;
  /** AS64500, the initiator. */
  a: LabNetwork;
  /** AS64501, the receiver. */
  b: LabNetwork;
  bgpPort: number;
  /** The Loopback IX's IPv6 ports, when the lab runs counter-requests. */
  ipv6: LabIpv6 | undefined;
  /** How the operators authenticate to each other. */
  peerAuth: PeerAuth;
  /**
   * The name of the Secret with A's credentials for B's API: a bearer `token`, or under `dpop+signature` the
   * OAuth `clientSecret` and the DPoP key (`dpop.jwk`).
   */
  readonly tokenSecret: string;
  /** The data of that Secret now (a fresh token under `bearer`), as `apply` puts it. */
  tokenSecretData(): Promise<Record<string, string>>;
  /** A's PeeringRequest for a session with B at the Loopback IX. */
  peeringRequest(name?: string): PeeringRequest;
  /**
   * Puts a fresh JWT for B's API into A's Secret (kept fresh while the lab runs), then applies the PeeringRequest
   * to A's store. Needs in-process operators.
   */
  apply(name?: string): Promise<PeeringRequest>;
  /** Deletes A's PeeringRequest: the operators de-peer on both sides. */
  remove(name?: string): Promise<void>;
  /** Stops operators, BIRDs and issuer (each even when another fails to stop). */
  stop(): Promise<void>;
}

export interface TwoNetworksOptions {
  /** A folder of its own (created); every file the lab writes goes there. */
  workDir: string;
  /** The repository's `examples/` folder (for `demo/peeringdb/` and `demo/issuer-accounts.yaml`). */
  examplesDir: string;
  /** Loopback TCP ports; a port left out (or 0) is picked free. */
  ports?: { issuer?: number; apiA?: number; apiB?: number; bgp?: number };
  /**
   * Where each network's operator keeps its resources; default the embedded store (SQLite) under its folder.
   * `'none'` starts no operator: the caller runs them (`peering-operator run` with the written configuration).
   */
  operators?: ((plan: DemoNetworkPlan, dir: string) => Promise<NetworkBacking>) | 'embedded' | 'none';
  /** Operator options on top of {@link DEMO_OPERATOR_TIMINGS}. */
  operatorOptions?: Partial<OperatorOptions>;
  /**
   * AS64501 answers requests with a counter-request for what was not asked (the draft's return_url flow); the
   * Loopback IX gets IPv6 ports ({@link TwoNetworks.ipv6}) on the loopback interface, which needs root (`ip addr`).
   */
  counterRequests?: boolean;
  /**
   * Each operator drives its BIRD through a Router resource and a router agent (the backing's
   * `startRouterAgent`, Kubernetes only) instead of in-process.
   */
  routerAgents?: boolean;
  /** AS64501 runs FRR (bgpd, driven by the FRR driver) instead of BIRD; AS64500 stays on BIRD. */
  frr?: boolean;
  /**
   * How AS64501, the receiver, approves the sessions AS64500 asks for; default `auto`. With `manual` they wait as
   * `pending` until a person (or a PeeringApproval) approves them.
   */
  receiverApproval?: 'auto' | 'manual';
  /**
   * How the operators authenticate to each other; default `dpop+signature`: each holds a DPoP key (in its
   * peer-API Secret), gets DPoP-bound tokens by client credentials and signs every request, and each network's
   * API requires exactly that of the other. `bearer`: a JWT in a Secret, as a peer without DPoP would.
   */
  peerAuth?: PeerAuth;
  logger?: (asn: number) => Logger;
}

/**
 * The two-network demo, assembled: a local PeeringDB-like issuer, and for AS64500 and AS64501 each a BIRD on its
 * own loopback address (Loopback IX port), its operator configuration and, unless told otherwise, its operator
 * with the Peering API, in this process. `peering-operator demo` and the end-to-end tests run on it.
 *
 * @example
 * const lab = await startTwoNetworks({ workDir: '/tmp/demo', examplesDir: 'examples' });
 * await lab.apply();
 * // … lab.a.backing.backing.sessions.list() until established …
 * await lab.stop();
 */
export async function startTwoNetworks(options: TwoNetworksOptions): Promise<TwoNetworks> {
  const ports = options.ports ?? {};
  const examplesDir = resolve(options.examplesDir);
  mkdirSync(options.workDir, { recursive: true });
  const ipv6 = options.counterRequests ? labIpv6() : undefined;
  const peeringDbDir = ipv6
    ? withIpv6Ports(join(examplesDir, 'demo', 'peeringdb'), join(options.workDir, 'peeringdb'), ipv6)
    : join(examplesDir, 'demo', 'peeringdb');
  const [planA, planB] = DEMO_NETWORKS;
  const peerAuth = options.peerAuth ?? 'dpop+signature';
  const stops: (() => Promise<void>)[] = [];
  for (const address of ipv6?.addresses ?? []) {
    await addLoopbackAddress(address);
    stops.push(() => removeLoopbackAddress(address));
  }
  const bgpAddresses = [planA.address, planB.address, ...(ipv6?.addresses ?? [])];
  const bgpPort = ports.bgp || (await freePort(bgpAddresses, 20_000, 30_000));
  const apiPorts = [
    ports.apiA || (await freePort(['127.0.0.1'])),
    ports.apiB || (await freePort(['127.0.0.1'])),
  ];

  const stopAll = async () => {
    const errors: unknown[] = [];
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  };

  try {
    const fixture = await loadIssuerFixture(join(examplesDir, 'demo', 'issuer-accounts.yaml'));
    const issuer = await startIssuer({ fixture, listen: `127.0.0.1:${ports.issuer ?? 0}` });
    stops.push(() => issuer.stop());
    const peeringDb = await FilePeeringDb.load(peeringDbDir);

    const networks: LabNetwork[] = [];
    for (const [index, plan] of DEMO_NETWORKS.entries()) {
      const apiPort = apiPorts[index] as number;
      const dir = join(options.workDir, `as${plan.asn}`);
      mkdirSync(dir, { recursive: true });
      const config = demoConfig(plan, {
        apiPort,
        issuer: issuer.issuer,
        peeringDbDir,
        counterRequests: options.counterRequests === true && index === 1,
        ...(index === 1 && options.receiverApproval ? { approval: options.receiverApproval } : {}),
        peerAuth,
        peerAsn: (DEMO_NETWORKS[1 - index] as DemoNetworkPlan).asn,
      });
      const dpopKeyJwk = await DpopKey.newJwkText();
      writeFileSync(join(dir, 'dpop.jwk'), dpopKeyJwk, { mode: 0o600 });
      const dpopKey = await DpopKey.fromJwkText(dpopKeyJwk, join(dir, 'dpop.jwk'), 'dpopKey');
      const configPath = join(dir, 'peering-operator.yaml');
      writeFileSync(
        configPath,
        `# AS${plan.asn} of the two-network demo (written by peering-operator demo)\n${stringify(config)}`,
      );
      const routerKind = options.frr === true && index === 1 ? 'frr' : 'bird';
      let bird: BirdProcess | undefined;
      let frr: FrrProcess | undefined;
      if (routerKind === 'bird') {
        const started = await BirdProcess.start({
          name: `bird-as${plan.asn}`,
          dir: join(dir, 'bird'),
          config: {
            routerId: plan.address,
            announce: [...plan.announce, ...plan.internal],
            filters: demoFilters(plan),
          },
        });
        bird = started;
        stops.push(() => started.stop());
      } else {
        const started = await FrrProcess.start({
          name: `frr-as${plan.asn}`,
          dir: join(dir, 'frr'),
          asn: plan.asn,
          address: plan.address,
          port: bgpPort,
          announce: [...plan.announce, ...plan.internal],
          policy: demoFrrPolicy(plan),
        });
        frr = started;
        stops.push(() => started.stop());
      }
      const sessionDefaults = demoSessionDefaults(bgpPort);
      const sessionDefaultsPath = join(dir, 'bird-sessions.yaml');
      writeFileSync(sessionDefaultsPath, stringify(sessionDefaults));
      const manifestsDir = join(dir, 'manifests');
      mkdirSync(manifestsDir, { recursive: true });
      const tokens = new Map<string, ClientCredentialsTokenSource>();
      const birdProcess = bird;
      const routerArgs =
        routerKind === 'bird' && birdProcess
          ? [
              '--router',
              'bird',
              '--bird-socket',
              birdProcess.socketPath,
              '--bird-include-dir',
              birdProcess.includeDir,
            ]
          : ['--router', 'frr', '--frr-vty-socket', frr?.dir ?? '', '--frr-listen-port', String(bgpPort)];
      networks.push({
        plan,
        asn: plan.asn,
        dir,
        config,
        configPath,
        routerKind,
        get bird(): BirdProcess {
          if (!birdProcess) throw new Error(`AS${plan.asn} runs FRR in this lab, not BIRD (see .frr)`);
          return birdProcess;
        },
        frr,
        driver: () =>
          birdProcess
            ? new BirdRouterDriver({
                socketPath: birdProcess.socketPath,
                includeDir: birdProcess.includeDir,
                sessionDefaults,
              })
            : new FrrRouterDriver({ vtySocketDir: frr?.dir, listenPort: bgpPort, sessionDefaults }),
        sessionDefaults,
        manifestsDir,
        runArgs: (healthListen) => [
          'run',
          '--standalone',
          '--config',
          configPath,
          '--manifests',
          manifestsDir,
          '--watch-namespace',
          'default',
          '--inbound-namespace',
          'default',
          ...routerArgs,
          '--session-defaults',
          sessionDefaultsPath,
          '--health-listen',
          healthListen,
        ],
        apiUrl: config.apiUrl,
        apiPort,
        operator: undefined,
        agent: undefined,
        startAgent: () => Promise.reject(new Error('this lab runs no router agents (routerAgents: true)')),
        backing: undefined,
        dpopKey,
        dpopKeyJwk,
        tokens: (audience) => tokenSource(audience),
        token: (audience) => tokenSource(audience).token(),
      });
      function tokenSource(audience: string): ClientCredentialsTokenSource {
        let source = tokens.get(audience);
        if (!source) {
          source = new ClientCredentialsTokenSource({
            issuer: issuer.issuer,
            clientId: plan.clientId,
            clientSecret: plan.clientSecret,
            resource: audience,
            dpop: peerAuth === 'dpop+signature' ? dpopKey : undefined,
          });
          tokens.set(audience, source);
        }
        return source;
      }
    }
    const [a, b] = networks as [LabNetwork, LabNetwork];

    const operators = options.operators ?? 'embedded';
    if (operators !== 'none') {
      const backingFor = operators === 'embedded' ? embeddedNetworkBacking : operators;
      for (const network of [b, a]) {
        const backing = await backingFor(network.plan, network.dir);
        let started = false;
        stops.push(async () => {
          if (!started) await backing.backing.close();
        });
        const logger = options.logger?.(network.asn) ?? silentLogger;
        const router = network.driver();
        if (options.routerAgents && !backing.startRouterAgent) {
          throw new Error('router agents need a backing with Router resources (Kubernetes)');
        }
        network.operator = await startOperator({
          backing: backing.backing,
          config: parseConfig(network.config, network.configPath),
          ...(options.routerAgents ? { routerAgents: {} } : { router }),
          watchNamespace: backing.namespace,
          inboundNamespace: backing.namespace,
          api: { listen: `127.0.0.1:${network.apiPort}`, configDir: network.dir, peeringDb },
          peeringDb,
          logger,
          ...DEMO_OPERATOR_TIMINGS,
          ...options.operatorOptions,
        });
        started = true;
        const operator = network.operator;
        stops.push(() => operator.stop());
        const startRouterAgent = backing.startRouterAgent?.bind(backing);
        if (options.routerAgents && startRouterAgent) {
          network.startAgent = async () => {
            network.agent = await startRouterAgent({
              name: `${network.routerKind}-as${network.asn}`,
              kind: network.routerKind,
              addresses: [network.plan.address],
              driver: network.driver(),
            });
            return network.agent;
          };
          await network.startAgent();
          stops.push(async () => network.agent?.kill());
        }
        network.backing = backing;
        if (network.config.policy?.counterRequests) {
          await backing.putSecret(COUNTER_REQUEST_SECRET, {
            secret: network.plan.clientSecret,
            ...(peerAuth === 'dpop+signature' ? { [DPOP_KEY_SECRET_KEY]: network.dpopKeyJwk } : {}),
          });
        }
      }
    }

    const tokenSecret = `peer-as${b.asn}`;
    const peeringRequest = (name = `as${b.asn}`): PeeringRequest => ({
      apiVersion: API_VERSION,
      kind: 'PeeringRequest',
      metadata: { namespace: a.backing?.namespace ?? 'default', name },
      spec: {
        direction: 'Outbound',
        localAsn: a.asn,
        peerAsn: b.asn,
        peerApiUrl: b.apiUrl,
        credentials:
          peerAuth === 'dpop+signature'
            ? {
                oauth2ClientCredentials: {
                  issuer: issuer.issuer,
                  clientId: a.plan.clientId,
                  clientSecretRef: { name: tokenSecret, key: 'clientSecret' },
                  resource: b.apiUrl,
                  dpopKeySecretRef: { name: tokenSecret, key: DPOP_KEY_SECRET_KEY },
                },
              }
            : { bearerTokenSecretRef: { name: tokenSecret, key: 'token' } },
        addressFamilies: ['ipv4'],
        approved: false,
        sessions: [
          {
            location: DEMO_LOCATION,
            localIp: a.plan.address,
            peerIp: b.plan.address,
            localInsertAsn: true,
            peerInsertAsn: true,
            localMonitoringSession: false,
            peerMonitoringSession: false,
          },
        ],
      },
    });

    let refresh: NodeJS.Timeout | undefined;
    stops.push(async () => clearInterval(refresh));
    const tokenSecretData = async (): Promise<Record<string, string>> =>
      peerAuth === 'dpop+signature'
        ? { clientSecret: a.plan.clientSecret, [DPOP_KEY_SECRET_KEY]: a.dpopKeyJwk }
        : { token: await a.token(b.apiUrl) };
    const putToken = async () => {
      const backing = a.backing;
      if (!backing) throw new Error('the lab runs no operators: apply the PeeringRequest through them');
      await backing.putSecret(tokenSecret, await tokenSecretData());
    };

    return {
      workDir: options.workDir,
      issuer,
      a,
      b,
      bgpPort,
      ipv6,
      peerAuth,
      tokenSecret,
      tokenSecretData,
      peeringRequest,
      apply: async (name) => {
        await putToken();
        // Access tokens live 10 hours; a demo left running on bearer tokens must not lose its peer API on the way
        // (client credentials renew themselves).
        if (peerAuth === 'bearer') {
          refresh ??= setInterval(() => void putToken().catch(() => undefined), 3_600_000);
          refresh.unref();
        }
        const backing = a.backing as NetworkBacking;
        const request = peeringRequest(name);
        if (backing.applyRequest) await backing.applyRequest(request);
        else await backing.backing.requests.create(request);
        return request;
      },
      remove: async (name = `as${b.asn}`) => {
        const backing = a.backing;
        if (!backing) throw new Error('the lab runs no operators');
        if (backing.deleteRequest) await backing.deleteRequest(name);
        else await backing.backing.requests.delete(backing.namespace, name);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

/**
 * A copy of the demo's PeeringDB fixture in `to` whose Loopback IX also has IPv6: a prefix and one port per
 * network. Returns `to`.
 */
function withIpv6Ports(from: string, to: string, ipv6: LabIpv6): string {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from).filter((n) => n.endsWith('.json'))) {
    const file = JSON.parse(readFileSync(join(from, name), 'utf8')) as { data: Record<string, unknown>[] };
    if (name === 'netixlan.json') {
      file.data = file.data.map((port, i) => ({ ...port, ipaddr6: ipv6.addresses[i] ?? null }));
    }
    if (name === 'ixpfx.json') {
      file.data = [...file.data, { ...file.data[0], id: 1127, protocol: 'IPv6', prefix: ipv6.prefix }];
    }
    writeFileSync(join(to, name), JSON.stringify(file));
  }
  return to;
}

async function addLoopbackAddress(address: string): Promise<void> {
  try {
    await execFileAsync('ip', ['-6', 'addr', 'add', `${address}/128`, 'dev', 'lo', 'nodad']);
  } catch (error) {
    throw new Error(
      `cannot put ${address} on the loopback interface (${(error as Error).message.trim()}); the lab's IPv6 ports need root`,
    );
  }
}

async function removeLoopbackAddress(address: string): Promise<void> {
  await execFileAsync('ip', ['-6', 'addr', 'del', `${address}/128`, 'dev', 'lo']).catch(() => undefined);
}

/** The standalone backing: SQLite under `<dir>/store`, Secrets in memory, namespace `default`. */
async function embeddedNetworkBacking(_plan: DemoNetworkPlan, dir: string): Promise<NetworkBacking> {
  const backing = embeddedBacking(join(dir, 'store'));
  const secrets = new Map<string, Record<string, string>>();
  return {
    backing,
    namespace: 'default',
    putSecret: async (name, data) => {
      secrets.set(`default/${name}`, data);
      backing.secrets.replace(new Map(secrets));
    },
  };
}

/**
 * A TCP port in `[from, to)` free on every given loopback address (checked by binding it). Another process may
 * take it between the check and its use; on a development machine that is rare enough.
 */
export async function freePort(hosts: readonly string[], from = 30_000, to = 40_000): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from));
    if (await bindable(hosts, port)) return port;
  }
  throw new Error(`no free TCP port in ${from}-${to - 1} on ${hosts.join(', ')}`);
}

/** True when `port` can be bound on every one of `hosts` right now. */
export async function bindable(hosts: readonly string[], port: number): Promise<boolean> {
  for (const host of hosts) {
    const ok = await new Promise<boolean>((done) => {
      const server = createServer();
      server.once('error', () => done(false));
      server.listen({ host, port, exclusive: true }, () => server.close(() => done(true)));
    });
    if (!ok) return false;
  }
  return true;
}
