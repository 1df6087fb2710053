import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/sample.js';

/** The compiled CLI: these tests run `peering-operator` as users do (build first: `npx tsc -p .`). */
export const PEERING_OPERATOR = join(REPO_ROOT, 'dist/controller/src/cli/peering-operator.js');

export function requireBuild(): void {
  if (!existsSync(PEERING_OPERATOR)) {
    throw new Error(`${PEERING_OPERATOR} is missing: build first with npx tsc -p .`);
  }
}

const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/**
 * `node dist/…/peering-operator.js ARGS` as a process of its own, its output appended to `logPath`. It runs
 * under `setpriv --pdeathsig KILL` where available, so it cannot outlive the test process even when jest is killed.
 */
export class CliProcess {
  private child: ChildProcess | undefined;
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

  constructor(
    readonly args: readonly string[],
    readonly logPath: string,
    private readonly env: Record<string, string> = {},
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(extraEnv: Record<string, string> = {}): this {
    const log = openSync(this.logPath, 'a');
    const setpriv = existsSync('/usr/bin/setpriv');
    const argv = [PEERING_OPERATOR, ...this.args];
    const child = spawn(
      setpriv ? '/usr/bin/setpriv' : process.execPath,
      setpriv ? ['--pdeathsig', 'KILL', '--', process.execPath, ...argv] : argv,
      { env: { ...process.env, ...this.env, ...extraEnv }, stdio: ['ignore', log, log] },
    );
    closeSync(log);
    started.add(child);
    this.child = child;
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        started.delete(child);
        resolve({ code, signal });
      }),
    );
    return this;
  }

  /** Resolves when the process has ended, with how. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exit) throw new Error('not started');
    return this.exit;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` (a crash: SIGKILL) and waits for the end; SIGKILL after `graceMs` for other signals. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited();
    clearTimeout(timer);
  }

  log(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }
}

/** `GET url` → status and body, or undefined when nothing answers. */
export async function httpGet(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined;
  }
}

/** The value of one Prometheus sample (`name{labels}` exactly as exported), or undefined. */
export function sample(metrics: string, series: string): number | undefined {
  for (const line of metrics.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
