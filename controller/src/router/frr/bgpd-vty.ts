import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { PeeringError } from '../../domain/errors.js';

export interface BgpdVtyOptions {
  /** bgpd's vty socket folder (`bgpd --vty_socket`); default FRR's own, `/var/run/frr`. */
  vtySocketDir?: string | undefined;
  /** Longest wait for one exchange (a command, or a whole script); loading 10,000 neighbors takes seconds. */
  timeoutMs?: number | undefined;
}

/** What bgpd said about a configuration script: the lines it refused, with its words. */
export interface ScriptResult {
  ok: boolean;
  /** `line N: % message` for each refused line. */
  errors: string[];
}

/** FRR's command statuses (lib/command.h) that mean the command was carried out. */
const CMD_SUCCESS = 0;
const CMD_SUCCESS_DAEMON = 10;

/**
 * bgpd's own vty socket (`<dir>/bgpd.vty`), spoken to directly as vtysh does: each command is its text and a NUL;
 * bgpd answers with the output, three NULs and the command's status (lib/command.h). So an agent needs no
 * `vtysh` binary, only the socket: a sidecar beside an FRR container shares its socket folder.
 *
 * A connection starts in FRR's view node; `enable` comes first. Configuration is sent as vtysh `-f` sends a
 * file: `configure terminal`, FRR's start-of-configuration marker, the lines (bgpd goes on after a refused line,
 * so every refusal is reported), the end marker, `end`. Commands are pipelined on one connection and their
 * answers read back in order.
 *
 * @example
 * const vty = new BgpdVty({ vtySocketDir: '/run/frr' });
 * const neighbors = await vty.json('show bgp neighbors json');
 */
export class BgpdVty {
  constructor(private readonly options: BgpdVtyOptions = {}) {}

  /** Where bgpd listens. */
  get socketPath(): string {
    return join(this.options.vtySocketDir ?? '/var/run/frr', 'bgpd.vty');
  }

  /** Runs `commands` in order; resolves with their output, rejects with ROUTER_UNAVAILABLE or ROUTER_REJECTED. */
  async command(...commands: string[]): Promise<string> {
    const answers = await this.exchange(['enable', ...commands]);
    const output: string[] = [];
    for (const [index, answer] of answers.slice(1).entries()) {
      if (!succeeded(answer.status)) {
        throw new PeeringError(
          'ROUTER_REJECTED',
          `FRR refused "${commands[index]}": ${answer.output.trim().slice(0, 2000) || `status ${answer.status}`}`,
          'router',
        );
      }
      output.push(answer.output);
    }
    return output.join('');
  }

  /** A `show … json` command, parsed. */
  async json<T = unknown>(command: string): Promise<T> {
    return jsonAnswer<T>(command, await this.command(command));
  }

  /** Applies a configuration script (FRR's configuration file syntax, explicit `exit`s). */
  async script(text: string): Promise<ScriptResult> {
    const lines = text.split('\n');
    const sent: { line: number; text: string }[] = [];
    for (const [index, raw] of lines.entries()) {
      const line = raw.trim();
      if (line !== '' && !line.startsWith('!')) sent.push({ line: index + 1, text: line });
    }
    const opening = ['enable', 'configure terminal', 'XFRR_start_configuration'];
    const answers = await this.exchange([
      ...opening,
      ...sent.map((s) => s.text),
      'XFRR_end_configuration',
      'end',
    ]);
    const errors: string[] = [];
    for (const [index, answer] of answers.entries()) {
      if (succeeded(answer.status)) continue;
      const line = sent[index - opening.length];
      const words = answer.output.trim() || `status ${answer.status}`;
      errors.push(line ? `line ${line.line}: ${words}` : words);
    }
    return { ok: errors.length === 0, errors };
  }

  /** Sends every command at once on a new connection; the answers, in order. */
  private exchange(commands: readonly string[]): Promise<{ output: string; status: number }[]> {
    const path = this.socketPath;
    const timeoutMs = this.options.timeoutMs ?? 120_000;
    return new Promise((resolve, reject) => {
      const answers: { output: string; status: number }[] = [];
      const pending: Buffer[] = [];
      let settled = false;
      const socket: Socket = createConnection(path);
      const timer = setTimeout(
        () => finish(unavailable(`no answer from ${path} within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      const finish = (error?: PeeringError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (error) reject(error);
        else resolve(answers);
      };
      socket.once('connect', () => {
        socket.write(Buffer.concat(commands.map((c) => Buffer.from(`${c}\0`, 'utf8'))));
      });
      // Output never holds a NUL: the first one starts the terminator, NUL NUL NUL status. Chunks are joined only
      // once one holds a NUL, so a long answer (show running-config of 10,000 neighbors) is copied once.
      let terminatorPending = false;
      socket.on('data', (chunk: Buffer) => {
        pending.push(chunk);
        if (!terminatorPending && chunk.indexOf(0) === -1) return;
        let buffer = Buffer.concat(pending);
        pending.length = 0;
        terminatorPending = false;
        for (let end = buffer.indexOf(0); end !== -1; end = buffer.indexOf(0)) {
          if (buffer.length < end + 4) {
            terminatorPending = true;
            break;
          }
          answers.push({ output: buffer.subarray(0, end).toString('utf8'), status: buffer[end + 3]! });
          buffer = buffer.subarray(end + 4);
        }
        if (buffer.length > 0) pending.push(buffer);
        if (answers.length === commands.length) finish();
      });
      socket.once('error', (error: NodeJS.ErrnoException) =>
        finish(unavailable(`${error.code ?? error.message} on ${path}`, error)),
      );
      socket.once('close', () =>
        finish(unavailable(`${path} closed after ${answers.length} of ${commands.length} answers`)),
      );
    });
  }
}

/** FRR's answer to a `show … json` command, parsed; anything else is ROUTER_REJECTED. */
export function jsonAnswer<T>(command: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new PeeringError(
      'ROUTER_REJECTED',
      `FRR answered "${command}" with something other than JSON`,
      'router',
    );
  }
}

function succeeded(status: number): boolean {
  return status === CMD_SUCCESS || status === CMD_SUCCESS_DAEMON;
}

function unavailable(reason: string, cause?: Error): PeeringError {
  return new PeeringError(
    'ROUTER_UNAVAILABLE',
    `FRR's bgpd cannot be reached: ${reason}`,
    'router',
    cause ? { cause } : undefined,
  );
}
