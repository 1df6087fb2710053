import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FAST_BGP_TIMERS,
  type BgpTimers,
  type DesiredSession,
  type ObservedSession,
  type RouterDriver,
} from '../../src/router/driver.js';
import { BirdRouterDriver, type BirdRouterDriverOptions } from '../../src/router/bird/bird-driver.js';
import { BirdProcess, findBirdBinary } from '../../src/router/bird/bird-process.js';
import { bindable } from '../../src/demo/two-networks.js';
import type { BirdReply } from '../../src/router/bird/control-socket.js';

/**
 * Real BIRD 2 daemons for tests: unprivileged, on loopback addresses of their own, each with its own
 * configuration, control socket and BGP port, gone when the test process goes.
 *
 * @example
 * describeWithBird('peering', () => {
 *   let pair: BirdPair;
 *   beforeAll(async () => (pair = await startBirdPair()));
 *   afterAll(() => pair?.stop());
 *   it('comes up', async () => {
 *     const a = pair.a.driver();
 *     const toB = pair.a.sessionTo(pair.b, { exportFilter: 'export_announced' });
 *     await a.apply({ upsert: [toB] });
 *     await pair.b.driver().apply({ upsert: [pair.b.sessionTo(pair.a, { importFilter: 'import_all' })] });
 *     await waitForSession(a, toB.key, 'established');
 *   });
 * });
 */

/** Timers that bring a session up in about a second and notice a dead peer in three: the demo's. */
export const TEST_BGP_TIMERS: BgpTimers = FAST_BGP_TIMERS;

/**
 * Filters the tests name: `export_announced` exports only what this router originates (its `announce4`/
 * `announce6` protocols), `import_all` accepts everything.
 */
export const TEST_FILTERS = `
filter export_announced {
  if proto = "announce4" || proto = "announce6" then accept;
  reject;
}
filter import_all {
  accept;
}
`;

export interface BirdOptions {
  /** Our AS number, used by {@link RunningBird.session}. */
  asn: number;
  /** The router's own loopback address (127/8); also its router id. */
  address: string;
  /** The unprivileged TCP port it speaks BGP on. */
  port: number;
  /** Prefixes it originates. */
  announce?: readonly string[];
  /** Filter definitions (default {@link TEST_FILTERS}). */
  filters?: string;
  /** Label in logs and directory names. */
  name?: string;
}

export interface RunningBird
  extends
    Readonly<Omit<BirdOptions, 'name'>>,
    Pick<BirdProcess, 'name' | 'dir' | 'configPath' | 'socketPath' | 'includeDir' | 'logPath'> {
  /**
   * A driver for this BIRD: port, fast timers and multihop as session defaults, merged with `sessionDefaults` given
   * (BIRD refuses next hops on the loopback interface for directly connected sessions, so loopback sessions are
   * multihop).
   */
  driver(options?: Partial<BirdRouterDriverOptions>): BirdRouterDriver;
  /** The options {@link RunningBird.driver} uses, for code that builds its own driver (an operator's config). */
  driverOptions(options?: Partial<BirdRouterDriverOptions>): BirdRouterDriverOptions;
  /** One command on the control socket (`birdc` without the binary). */
  command(text: string): Promise<BirdReply>;
  /** The reply's text, as `birdc` prints it. */
  birdc(text: string): Promise<string>;
  /** The session from this router to `peer` (our reading: local is this router). */
  sessionTo(peer: Pick<RunningBird, 'asn' | 'address'>, extra?: Partial<DesiredSession>): DesiredSession;
  /** SIGTERM (then SIGKILL), keeping configuration and sessions for {@link RunningBird.start}. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again from its configuration. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

/** The `bird` binary, when BIRD 2 is installed (`scripts/setup.d/20-bird.sh` installs it). */
export function birdBinaryPath(): string | undefined {
  return findBirdBinary();
}

/**
 * `describe` when BIRD 2 is installed. Without it: a loud skip, except in CI (`CI=true`) or with
 * `PEERING_REQUIRE_BIRD=1`, where the missing daemon is a failing test (CI installs it through setup.sh).
 */
export function describeWithBird(name: string, body: () => void): void {
  if (birdBinaryPath() !== undefined) {
    describe(name, body);
    return;
  }
  const required = process.env.CI === 'true' || process.env.PEERING_REQUIRE_BIRD === '1';
  const message =
    'BIRD 2 is not installed (bird not on PATH or not version 2): run scripts/setup.d/20-bird.sh, or apt-get install bird2';
  if (required) {
    describe(name, () => {
      it('needs BIRD 2, which CI installs', () => {
        throw new Error(
          `${message}; required because ${process.env.CI === 'true' ? 'CI=true' : 'PEERING_REQUIRE_BIRD=1'}`,
        );
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPING "${name}": ${message} ***\n`);
  describe.skip(`${name} (no BIRD 2)`, () => undefined);
}

/**
 * A block of loopback addresses nobody else on the machine is likely to use: 127.A.B.1-254 with A and B random
 * (all of 127/8 is loopback on Linux), so concurrent test files and colleagues' tests do not collide.
 */
export function loopbackBlock(): (host: number) => string {
  const a = randomInt(100, 255);
  const b = randomInt(0, 256);
  return (host) => `127.${a}.${b}.${host}`;
}

/** A TCP port free on every given address (checked by binding it), from the unprivileged range. */
export async function freePort(addresses: readonly string[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = randomInt(20000, 30000);
    if (await bindable(addresses, port)) return port;
  }
  throw new Error('no free port found for BIRD');
}

/**
 * Starts one BIRD (a {@link BirdProcess}: foreground, under `setpriv --pdeathsig TERM`, so that it dies with the
 * test process however that ends) in a fresh temporary folder; resolves once its control socket answers.
 */
export async function startBird(options: BirdOptions): Promise<RunningBird> {
  const name = options.name ?? `bird-${options.asn}`;
  // Short paths: a unix socket path must fit in 108 bytes.
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  let bird: BirdProcess;
  try {
    bird = await BirdProcess.start({
      name,
      dir,
      config: {
        routerId: options.address,
        announce: options.announce,
        filters: options.filters ?? TEST_FILTERS,
      },
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const driverOptions = (overrides: Partial<BirdRouterDriverOptions> = {}): BirdRouterDriverOptions => ({
    socketPath: bird.socketPath,
    includeDir: bird.includeDir,
    ...overrides,
    sessionDefaults: {
      localPort: options.port,
      peerPort: options.port,
      timers: TEST_BGP_TIMERS,
      multihop: 2,
      ...overrides.sessionDefaults,
    },
  });

  return {
    ...options,
    name,
    dir,
    configPath: bird.configPath,
    socketPath: bird.socketPath,
    includeDir: bird.includeDir,
    logPath: bird.logPath,
    driverOptions,
    driver: (overrides = {}) => new BirdRouterDriver(driverOptions(overrides)),
    command: (text) => bird.command(text),
    birdc: (text) => bird.birdc(text),
    sessionTo: (peer, extra = {}) => ({
      key: `${peer.asn}|pdb:ix:1|${options.address}|${peer.address}`,
      localAsn: options.asn,
      localIp: options.address,
      peerAsn: peer.asn,
      peerIp: peer.address,
      ...extra,
    }),
    kill: (signal) => bird.stop(signal),
    start: () => bird.start(),
    stop: async () => {
      await bird.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    logTail: (lines) => bird.logTail(lines),
  };
}

export interface BirdPair {
  /** AS64500 at 127.A.B.2 (or the first address given). */
  a: RunningBird;
  /** AS64501 at 127.A.B.3 (or the second address given), announcing two IPv4 prefixes (for max-prefix tests). */
  b: RunningBird;
  /** Addresses: 2 and 3 are a's and b's, 4-254 more of a random block for extra sessions between the two. */
  address: (host: number) => string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Two BIRDs ready to peer: AS64500 and AS64501 on a fresh loopback block, one BGP port, each announcing
 * documentation prefixes of its own: a 198.51.100.0/24 and 2001:db8:a::/48, b 203.0.113.0/24, 192.0.2.0/24 and
 * 2001:db8:b::/48.
 */
export async function startBirdPair(
  options: {
    /** Fixed addresses instead of a random block, e.g. to match a PeeringDB fixture: `['127.0.0.2', '127.0.0.3']`. */
    addresses?: readonly [string, string];
    /** A fixed BGP port instead of a free random one. */
    port?: number;
  } = {},
): Promise<BirdPair> {
  const block = loopbackBlock();
  const [addressA, addressB] = options.addresses ?? [block(2), block(3)];
  const address = (host: number) => (host === 2 ? addressA : host === 3 ? addressB : block(host));
  const port = options.port ?? (await freePort([addressA, addressB]));
  const a = await startBird({
    name: 'bird-a',
    asn: 64500,
    address: addressA,
    port,
    announce: ['198.51.100.0/24', '2001:db8:a::/48'],
  });
  let b: RunningBird;
  try {
    b = await startBird({
      name: 'bird-b',
      asn: 64501,
      address: addressB,
      port,
      announce: ['203.0.113.0/24', '192.0.2.0/24', '2001:db8:b::/48'],
    });
  } catch (error) {
    await a.stop();
    throw error;
  }
  return {
    a,
    b,
    address,
    port,
    stop: async () => {
      await Promise.all([a.stop(), b.stop()]);
    },
  };
}

/**
 * Polls `driver.observe()` until the session satisfies `until` (the state it must reach, or a predicate);
 * fails with the last observation when it does not within `timeoutMs`.
 */
export async function waitForSession(
  driver: RouterDriver,
  key: string,
  until: ObservedSession['state'] | ((session: ObservedSession | undefined) => boolean),
  timeoutMs = 15_000,
): Promise<ObservedSession | undefined> {
  const done = typeof until === 'string' ? (s: ObservedSession | undefined) => s?.state === until : until;
  const deadline = Date.now() + timeoutMs;
  let last: ObservedSession | undefined;
  for (;;) {
    last = (await driver.observe()).find((session) => session.key === key);
    if (done(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `session ${key} did not reach ${String(until)} within ${timeoutMs} ms; last: ${JSON.stringify(last)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
