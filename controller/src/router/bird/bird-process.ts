import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderBaseConfig, type BaseConfigOptions } from './base-config.js';
import { BirdControlSocket, replyText, type BirdReply } from './control-socket.js';
import { stopProcess } from '../stop-process.js';

let birdBinary: string | undefined | null = null;

/**
 * The `bird` binary of BIRD 2, when installed (`scripts/setup.d/20-bird.sh` installs Debian's `bird2`); looked up
 * once per process, or again with `lookAgain` (after installing it).
 *
 * @example
 * if (findBirdBinary() === undefined) console.error('install BIRD 2: apt-get install bird2');
 */
export function findBirdBinary(lookAgain = false): string | undefined {
  if (birdBinary !== null && !lookAgain) return birdBinary;
  // Debian installs into /usr/sbin, which is not on every user's PATH.
  const found = spawnSync(
    'sh',
    ['-c', 'command -v bird || command -v /usr/sbin/bird || command -v /usr/local/sbin/bird'],
    { encoding: 'utf8' },
  );
  const path = found.status === 0 ? (found.stdout.trim().split('\n')[0] ?? '') : '';
  const version = path === '' ? undefined : spawnSync(path, ['--version'], { encoding: 'utf8' });
  birdBinary = version && /BIRD version 2\./.test(`${version.stdout}${version.stderr}`) ? path : undefined;
  return birdBinary;
}

export interface BirdProcessOptions {
  /** A label for messages, e.g. `bird-as64500`. */
  name: string;
  /**
   * The daemon's folder (created when missing): `bird.conf`, the control socket `bird.ctl`, the driver's include
   * directory `sessions/`, `bird.pid` and `bird.log`. Keep it short: a unix socket path has at most 107 bytes.
   */
  dir: string;
  /** The main configuration, written to `bird.conf` around the include directory (see {@link renderBaseConfig}). */
  config: Omit<BaseConfigOptions, 'includeDir' | 'logFile'>;
  /** The `bird` binary; default {@link findBirdBinary}. */
  binary?: string;
  /** Longest wait for the control socket to answer after a start. Default 10 s. */
  startTimeoutMs?: number;
}

/** Every daemon this process started and has not seen exit: killed when this process exits, however it exits. */
const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * One BIRD 2 daemon run by us, unprivileged, in the foreground (`bird -f`): its own configuration, control
 * socket and include directory in one folder, its output in `bird.log`. It cannot outlive us: it runs under
 * `setpriv --pdeathsig TERM` (the kernel signals it when we die, even by SIGKILL), and a normal exit of ours
 * kills it too. For the demo and the tests; a production router runs its BIRD as a system service.
 *
 * @example
 * const bird = await BirdProcess.start({
 *   name: 'bird-as64500',
 *   dir: '/tmp/demo/as64500',
 *   config: { routerId: '127.0.0.2', announce: ['198.51.100.0/24'], filters: 'filter peer_out { accept; }' },
 * });
 * const driver = new BirdRouterDriver({ socketPath: bird.socketPath, includeDir: bird.includeDir });
 * console.log(await bird.birdc('show protocols'));
 * await bird.stop();
 */
export class BirdProcess {
  readonly name: string;
  readonly dir: string;
  readonly configPath: string;
  readonly socketPath: string;
  readonly includeDir: string;
  readonly logPath: string;
  private child: ChildProcess | undefined;
  private readonly binary: string;
  private readonly exitListeners: ((description: string) => void)[] = [];

  private constructor(private readonly options: BirdProcessOptions) {
    const binary = options.binary ?? findBirdBinary();
    if (binary === undefined) {
      throw new Error(
        'BIRD 2 is not installed (no `bird` of version 2 on PATH or in /usr/sbin): run `bash scripts/setup.d/20-bird.sh` as root, or `apt-get install bird2`',
      );
    }
    this.binary = binary;
    this.name = options.name;
    this.dir = options.dir;
    this.configPath = join(options.dir, 'bird.conf');
    this.socketPath = join(options.dir, 'bird.ctl');
    this.includeDir = join(options.dir, 'sessions');
    this.logPath = join(options.dir, 'bird.log');
  }

  /** Writes the configuration and starts the daemon; resolves once its control socket answers. */
  static async start(options: BirdProcessOptions): Promise<BirdProcess> {
    const bird = new BirdProcess(options);
    mkdirSync(bird.includeDir, { recursive: true });
    writeFileSync(bird.configPath, renderBaseConfig({ ...options.config, includeDir: bird.includeDir }));
    await bird.start();
    return bird;
  }

  /** The daemon's process id while it runs. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Called when the daemon exits without {@link BirdProcess.stop} asking it to, with what happened. */
  onUnexpectedExit(listener: (description: string) => void): void {
    this.exitListeners.push(listener);
  }

  /** Starts the daemon again from its configuration (the include directory is kept), unless it runs. */
  async start(): Promise<void> {
    if (this.running) return;
    installExitHook();
    const log = openSync(this.logPath, 'a');
    const args = ['-f', '-c', this.configPath, '-s', this.socketPath, '-P', join(this.dir, 'bird.pid')];
    const useSetpriv = existsSync('/usr/bin/setpriv');
    let child: ChildProcess;
    try {
      child = spawn(
        useSetpriv ? '/usr/bin/setpriv' : this.binary,
        // setpriv execs bird, so the child's pid is the daemon's own.
        useSetpriv ? ['--pdeathsig', 'TERM', '--', this.binary, ...args] : args,
        // A process group of its own: a terminal's Ctrl-C reaches us, and we stop the daemon in order.
        { stdio: ['ignore', log, log], detached: true },
      );
    } finally {
      closeSync(log);
    }
    this.child = child;
    children.add(child);
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (this.child === child) {
        this.child = undefined;
        const description = signal ? `killed by ${signal}` : `exited with code ${String(code)}`;
        for (const listener of this.exitListeners) listener(description);
      }
    });
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 10_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null || this.child !== child) {
        throw new Error(`${this.name} exited at start:\n${this.logTail(20)}`);
      }
      try {
        (await BirdControlSocket.open(this.socketPath, { timeoutMs: 1000 })).close();
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          await this.stop('SIGKILL');
          throw new Error(`${this.name} did not answer on ${this.socketPath}: ${String(error)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /**
   * Stops the daemon (`signal`, then SIGKILL after `graceMs`), keeping its folder for {@link BirdProcess.start}.
   * SIGKILL is a crash: BIRD cannot close its sessions, so the peer notices only when its hold timer expires.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
    const target = this.child;
    this.child = undefined;
    await stopProcess(target, signal, graceMs);
  }

  /** One command on the control socket, as `birdc` would send it. */
  async command(text: string): Promise<BirdReply> {
    const socket = await BirdControlSocket.open(this.socketPath);
    try {
      return await socket.command(text);
    } finally {
      socket.close();
    }
  }

  /** A command's reply as `birdc` prints it. */
  async birdc(text: string): Promise<string> {
    return replyText(await this.command(text));
  }

  /** The last lines of the daemon's log. */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // pdeathsig covers a killed parent; this covers process.exit() paths where setpriv is missing.
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
}
