import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BgpTimers, DesiredSession, ObservedSession, RouterDriver } from '../../src/router/driver.js';
import { BirdRouterDriver, type BirdRouterDriverOptions } from '../../src/router/bird/bird-driver.js';
import { renderBaseConfig } from '../../src/router/bird/base-config.js';
import { BirdControlSocket, replyText, type BirdReply } from '../../src/router/bird/control-socket.js';

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

/** Timers that bring a session up in about a second and notice a dead peer in three. */
export const TEST_BGP_TIMERS: BgpTimers = {
  hold: 3,
  keepalive: 1,
  connectRetry: 1,
  connectDelay: 1,
  errorWaitMin: 1,
  errorWaitMax: 2,
};

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

export interface RunningBird extends Readonly<BirdOptions> {
  readonly name: string;
  readonly dir: string;
  readonly configPath: string;
  readonly socketPath: string;
  readonly includeDir: string;
  readonly logPath: string;
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

let birdBinary: string | undefined | null = null;

/** The `bird` binary, when BIRD 2 is installed (`scripts/setup.d/20-bird.sh` installs it). */
export function birdBinaryPath(): string | undefined {
  if (birdBinary !== null) return birdBinary;
  // Debian installs into /usr/sbin, which is not on every user's PATH.
  const found = spawnSync(
    'sh',
    ['-c', 'command -v bird || command -v /usr/sbin/bird || command -v /usr/local/sbin/bird'],
    {
      encoding: 'utf8',
    },
  );
  const path = found.status === 0 ? (found.stdout.trim().split('\n')[0] ?? '') : '';
  const version = path === '' ? undefined : spawnSync(path, ['--version'], { encoding: 'utf8' });
  birdBinary = version && /BIRD version 2\./.test(`${version.stdout}${version.stderr}`) ? path : undefined;
  return birdBinary;
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
    if (await allBindable(addresses, port)) return port;
  }
  throw new Error('no free port found for BIRD');
}

async function allBindable(addresses: readonly string[], port: number): Promise<boolean> {
  for (const host of addresses) {
    const ok = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
    });
    if (!ok) return false;
  }
  return true;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts one BIRD in the foreground (`bird -f`) under `setpriv --pdeathsig TERM`, so that it dies with the test
 * process however that ends; resolves once its control socket answers.
 */
export async function startBird(options: BirdOptions): Promise<RunningBird> {
  const binary = birdBinaryPath();
  if (binary === undefined) throw new Error('BIRD 2 is not installed');
  const name = options.name ?? `bird-${options.asn}`;
  // Short paths: a unix socket path must fit in 108 bytes.
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const includeDir = join(dir, 'sessions');
  mkdirSync(includeDir);
  const configPath = join(dir, 'bird.conf');
  const socketPath = join(dir, 'bird.ctl');
  const logPath = join(dir, 'bird.log');
  writeFileSync(
    configPath,
    renderBaseConfig({
      routerId: options.address,
      includeDir,
      announce: options.announce,
      filters: options.filters ?? TEST_FILTERS,
    }),
  );
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const log = openSync(logPath, 'a');
    const args = ['-f', '-c', configPath, '-s', socketPath, '-P', join(dir, 'bird.pid')];
    const useSetpriv = existsSync('/usr/bin/setpriv');
    child = spawn(
      useSetpriv ? '/usr/bin/setpriv' : binary,
      useSetpriv ? ['--pdeathsig', 'TERM', '--', binary, ...args] : args,
      {
        stdio: ['ignore', log, log],
      },
    );
    closeSync(log);
    running.add(child);
    const started = child;
    started.once('exit', () => running.delete(started));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (started.exitCode !== null || started.signalCode !== null) {
        throw new Error(`bird ${name} exited at start:\n${tail(logPath, 20)}`);
      }
      try {
        (await BirdControlSocket.open(socketPath, { timeoutMs: 1000 })).close();
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`bird ${name} did not answer on ${socketPath}: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };

  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const target = child;
    child = undefined;
    if (!target || target.exitCode !== null || target.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => target.once('exit', () => resolve()));
    target.kill(signal);
    const timer = setTimeout(() => target.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const command = async (text: string): Promise<BirdReply> => {
    const socket = await BirdControlSocket.open(socketPath);
    try {
      return await socket.command(text);
    } finally {
      socket.close();
    }
  };

  const driverOptions = (overrides: Partial<BirdRouterDriverOptions> = {}): BirdRouterDriverOptions => ({
    socketPath,
    includeDir,
    ...overrides,
    sessionDefaults: {
      localPort: options.port,
      peerPort: options.port,
      timers: TEST_BGP_TIMERS,
      multihop: 2,
      ...overrides.sessionDefaults,
    },
  });

  await start();
  return {
    ...options,
    name,
    dir,
    configPath,
    socketPath,
    includeDir,
    logPath,
    driverOptions,
    driver: (overrides = {}) => new BirdRouterDriver(driverOptions(overrides)),
    command,
    birdc: async (text) => replyText(await command(text)),
    sessionTo: (peer, extra = {}) => ({
      key: `${peer.asn}|pdb:ix:1|${options.address}|${peer.address}`,
      localAsn: options.asn,
      localIp: options.address,
      peerAsn: peer.asn,
      peerIp: peer.address,
      ...extra,
    }),
    kill,
    start,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    logTail: (lines = 30) => tail(logPath, lines),
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

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
