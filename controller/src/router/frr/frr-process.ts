import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Vtysh } from './vtysh.js';
import { stopProcess } from '../stop-process.js';

/** Where Debian's package puts bgpd. */
export const FRR_BGPD = '/usr/lib/frr/bgpd';

/** bgpd and vtysh, when FRR is installed (`scripts/setup.d/21-frr.sh`). */
export function findFrr(): { bgpd: string; vtysh: string } | undefined {
  const vtysh = ['/usr/bin/vtysh', '/usr/local/bin/vtysh'].find((p) => existsSync(p));
  return existsSync(FRR_BGPD) && vtysh ? { bgpd: FRR_BGPD, vtysh } : undefined;
}

export interface FrrProcessOptions {
  name: string;
  /** Its folder (created): configuration, vty socket, pid file, log. */
  dir: string;
  asn: number;
  /** The address it listens on and its router id. */
  address: string;
  /** The TCP port it speaks BGP on (one for every neighbor). */
  port: number;
  /** Prefixes it originates (`network` statements; no RIB needed, import-check off). */
  announce?: readonly string[];
  /** Route-maps and prefix-lists the sessions name, as FRR configuration. */
  policy?: string;
}

/**
 * One bgpd of FRRouting for tests, the lab and the benchmark: its own configuration, vty socket folder (so several
 * run on one machine, each reached with `vtysh --vty_socket`), an unprivileged port on its own loopback address,
 * no zebra (`-Z`: nothing is installed in the kernel). Loopback next hops are martians to FRR, so the lab allows
 * them (`bgp allow-martian-nexthop`).
 *
 * @example
 * const frr = await FrrProcess.start({ name: 'frr-as64501', dir, asn: 64501, address: '127.0.0.3', port: 20179 });
 * const driver = new FrrRouterDriver({ vtySocketDir: frr.dir, listenPort: 20179 });
 */
export class FrrProcess {
  readonly configPath: string;
  readonly logPath: string;
  readonly vtysh: Vtysh;
  private child: ChildProcess | undefined;

  private constructor(readonly options: FrrProcessOptions) {
    this.configPath = join(options.dir, 'bgpd.conf');
    this.logPath = join(options.dir, 'bgpd.log');
    this.vtysh = new Vtysh({ vtySocketDir: options.dir });
  }

  get dir(): string {
    return this.options.dir;
  }

  static async start(options: FrrProcessOptions): Promise<FrrProcess> {
    mkdirSync(options.dir, { recursive: true });
    const frr = new FrrProcess(options);
    writeFileSync(frr.configPath, baseConfig(options));
    await frr.start();
    return frr;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts bgpd from its base configuration (what the driver configured is gone, as after a reboot). */
  async start(): Promise<void> {
    if (this.running) return;
    const binaries = findFrr();
    if (!binaries)
      throw new Error('FRR is not installed: run scripts/setup.d/21-frr.sh, or apt-get install frr');
    const log = openSync(this.logPath, 'a');
    const args = [
      '-f',
      this.configPath,
      '-i',
      join(this.dir, 'bgpd.pid'),
      '--vty_socket',
      this.dir,
      '-Z',
      '-S',
      '-P',
      '0',
      '-p',
      String(this.options.port),
      '-l',
      this.options.address,
      '--log',
      `file:${this.logPath}`,
    ];
    const setpriv = existsSync('/usr/bin/setpriv');
    try {
      this.child = spawn(
        setpriv ? '/usr/bin/setpriv' : binaries.bgpd,
        setpriv ? ['--pdeathsig', 'TERM', '--', binaries.bgpd, ...args] : args,
        {
          stdio: ['ignore', log, log],
          detached: true,
        },
      );
    } finally {
      closeSync(log);
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (!this.running) throw new Error(`${this.options.name} exited at start:\n${this.logTail()}`);
      try {
        await this.vtysh.command('show version');
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          await this.stop('SIGKILL');
          throw new Error(`${this.options.name} did not answer on its vty socket: ${String(error)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
    const target = this.child;
    this.child = undefined;
    await stopProcess(target, signal, graceMs);
  }

  /** A vtysh command's output, as a person would type it. */
  async show(command: string): Promise<string> {
    return this.vtysh.command(command);
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

function baseConfig(options: FrrProcessOptions): string {
  const families = { ipv4: [] as string[], ipv6: [] as string[] };
  for (const prefix of options.announce ?? [])
    (prefix.includes(':') ? families.ipv6 : families.ipv4).push(prefix);
  const lines = [
    `! ${options.name}: written by peering-operator's FrrProcess; the driver adds its neighbors at run time`,
    'frr defaults traditional',
    `hostname ${options.name}`,
    'log timestamp precision 3',
    options.policy ?? '',
    `router bgp ${options.asn}`,
    ` bgp router-id ${options.address}`,
    // Without zebra nothing is in a RIB: originate the prefixes anyway, and accept loopback next hops (the lab).
    ' no bgp network import-check',
    ' bgp allow-martian-nexthop',
  ];
  for (const [family, prefixes] of Object.entries(families)) {
    if (prefixes.length === 0) continue;
    lines.push(
      ` address-family ${family} unicast`,
      ...prefixes.map((p) => `  network ${p}`),
      ' exit-address-family',
    );
  }
  lines.push('exit', '');
  return lines.join('\n');
}
