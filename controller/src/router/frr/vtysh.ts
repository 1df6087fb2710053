import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeeringError } from '../../domain/errors.js';
import { jsonAnswer, type ScriptResult } from './bgpd-vty.js';

export interface VtyshOptions {
  /** The `vtysh` binary (default: `vtysh` on the PATH). */
  vtyshPath?: string | undefined;
  /** bgpd's vty socket folder (`bgpd --vty_socket`, `vtysh --vty_socket`); default FRR's own (`/var/run/frr`). */
  vtySocketDir?: string | undefined;
  /** Longest wait for one vtysh run; loading 10,000 neighbors takes seconds. Default 120 s. */
  timeoutMs?: number | undefined;
}

/**
 * FRR's own shell, talking to bgpd only (`-d bgpd`) through its vty socket: what a person uses, and so the FRR
 * benchmark's baseline and the tests' edits by hand; the driver speaks the socket itself (`BgpdVty`).
 * Configuration goes in as a script (`vtysh -f`, the syntax of FRR's configuration files), which FRR applies line
 * by line, reporting each line it refuses; queries go as `-c` commands, with JSON output where FRR offers it.
 *
 * @example
 * const vtysh = new Vtysh({ vtySocketDir: '/run/frr/edge1' });
 * const neighbors = await vtysh.json('show bgp neighbors json');
 */
export class Vtysh {
  constructor(private readonly options: VtyshOptions = {}) {}

  /** Runs `commands` (each a `-c`); resolves with the output, rejects with ROUTER_UNAVAILABLE or ROUTER_REJECTED. */
  async command(...commands: string[]): Promise<string> {
    const { code, stdout, stderr } = await this.run(commands.flatMap((c) => ['-c', c]));
    if (code !== 0) throw failure(code, `${stdout}${stderr}`, commands.join('; '));
    return stdout;
  }

  /** A `show … json` command, parsed. */
  async json<T = unknown>(command: string): Promise<T> {
    return jsonAnswer<T>(command, await this.command(command));
  }

  /** Applies a configuration script; FRR goes on after a refused line, so every refusal is reported. */
  async script(text: string): Promise<ScriptResult> {
    const dir = await mkdtemp(join(tmpdir(), 'po-frr-'));
    try {
      const file = join(dir, 'peering.conf');
      await writeFile(file, text, { mode: 0o600 });
      const { code, stdout, stderr } = await this.run(['-f', file]);
      if (code === 0) return { ok: true, errors: [] };
      const output = `${stdout}${stderr}`;
      if (unreachable(output)) throw failure(code, output, 'configuration');
      const errors = output
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
      return { ok: false, errors: errors.length > 0 ? errors : [`vtysh exited with ${code}`] };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const socket = this.options.vtySocketDir ? ['--vty_socket', this.options.vtySocketDir] : [];
    return new Promise((resolve, reject) => {
      execFile(
        this.options.vtyshPath ?? 'vtysh',
        [...socket, '-d', 'bgpd', ...args],
        { timeout: this.options.timeoutMs ?? 120_000, maxBuffer: 512 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number') {
            reject(
              new PeeringError('ROUTER_UNAVAILABLE', `vtysh could not run: ${error.message}`, 'router', {
                cause: error,
              }),
            );
            return;
          }
          resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
        },
      );
    });
  }
}

function unreachable(output: string): boolean {
  return /Exiting: failed to connect|failed to connect to any daemons|is not running/i.test(output);
}

function failure(code: number, output: string, what: string): PeeringError {
  const text = output.trim().slice(0, 2000) || `vtysh exited with ${code}`;
  return unreachable(output)
    ? new PeeringError('ROUTER_UNAVAILABLE', `FRR's bgpd cannot be reached: ${text}`, 'router')
    : new PeeringError('ROUTER_REJECTED', `FRR refused ${what}: ${text}`, 'router');
}
