import { createConnection, type Socket } from 'node:net';
import { PeeringError } from '../../domain/errors.js';

/** One line of a BIRD reply: its 4-digit code and its text. */
export interface ReplyLine {
  code: number;
  text: string;
}

/** A complete reply: every line, and the code of the last one, which tells success (0xxx) from failure (8xxx, 9xxx). */
export interface BirdReply {
  code: number;
  lines: ReplyLine[];
}

/** Reply codes of BIRD 2 (doc/reply_codes in its sources) that the driver acts on. */
export const REPLY = {
  OK: 0,
  WELCOME: 1,
  READING_CONFIGURATION: 2,
  RECONFIGURED: 3,
  RECONFIGURATION_IN_PROGRESS: 4,
  RECONFIGURATION_QUEUED: 5,
  RECONFIGURATION_IGNORED_SHUTTING_DOWN: 6,
  RECONFIGURATION_QUEUE_REPLACED: 17,
  CONFIGURATION_OK: 20,
  NO_PROTOCOLS_MATCH: 8003,
  CONFIGURATION_FILE_ERROR: 8002,
} as const;

/**
 * The BIRD control socket, spoken directly (the protocol `birdc` itself speaks; ADR 0004): every reply line is
 * `CODE-text` (more follows), `CODE text` (last line) or ` text` (continues the previous code). Talking to the
 * socket ourselves gives the reply codes that `birdc` hides, needs no `birdc` binary beside the operator (a shared
 * socket volume is enough), and costs no process per command.
 *
 * One connection per {@link BirdControlSocket.open}; commands on it run one after another.
 *
 * @example
 * const bird = await BirdControlSocket.open('/run/bird/bird.ctl');
 * try {
 *   const reply = await bird.command('configure check');
 *   if (reply.code !== REPLY.CONFIGURATION_OK) throw new Error(replyText(reply));
 * } finally {
 *   bird.close();
 * }
 */
export class BirdControlSocket {
  private readonly decoder = new ReplyDecoder();
  private replies: BirdReply[] = [];
  private waiter: { resolve: (reply: BirdReply) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** The banner, e.g. `BIRD 2.0.12 ready.` */
  version = '';

  private constructor(
    private readonly socket: Socket,
    private readonly path: string,
    private readonly timeoutMs: number,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('BIRD closed the control socket')));
  }

  /** Connects and waits for BIRD's greeting; throws a `ROUTER_UNAVAILABLE` error naming the socket when it cannot. */
  static async open(path: string, options: { timeoutMs?: number } = {}): Promise<BirdControlSocket> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const socket = createConnection({ path });
    const control = new BirdControlSocket(socket, path, timeoutMs);
    const greeting = await control.awaitReply('connect');
    if (greeting.code !== REPLY.WELCOME) {
      control.close();
      throw routerUnavailable(path, `unexpected greeting: ${replyText(greeting)}`);
    }
    control.version = greeting.lines[0]?.text ?? '';
    return control;
  }

  /**
   * Sends one command and resolves with its whole reply (also for error codes, which the caller interprets).
   * Commands are single lines built by the driver; a line break would smuggle in a second command, so it is refused.
   */
  command(text: string): Promise<BirdReply> {
    if (/[\r\n]/.test(text)) return Promise.reject(new RangeError('a BIRD command is one line'));
    const run = this.queue.then(() => {
      this.socket.write(`${text}\n`);
      return this.awaitReply(text);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.socket.destroy();
  }

  private awaitReply(what: string): Promise<BirdReply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<BirdReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(routerUnavailable(this.path, `no complete answer to "${what}" within ${this.timeoutMs} ms`));
        this.socket.destroy();
      }, this.timeoutMs);
      this.waiter = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  private receive(chunk: string): void {
    for (const reply of this.decoder.push(chunk)) {
      const waiter = this.waiter;
      this.waiter = undefined;
      if (waiter) waiter.resolve(reply);
      else this.replies.push(reply);
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = routerUnavailable(this.path, error.message, error);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.failure);
  }
}

/**
 * Cuts the byte stream of a control socket into replies: a reply ends with a line whose code is followed by a
 * space. Pure, so the tests feed it real captured transcripts.
 *
 * @example
 * new ReplyDecoder().push('0001 BIRD 2.0.12 ready.\n'); // [{ code: 1, lines: [{ code: 1, text: 'BIRD 2.0.12 ready.' }] }]
 */
export class ReplyDecoder {
  private buffer = '';
  private pending: ReplyLine[] = [];

  /** Adds a chunk; returns the replies it completed. */
  push(chunk: string): BirdReply[] {
    this.buffer += chunk;
    const replies: BirdReply[] = [];
    let start = 0;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n', start)) !== -1) {
      const raw = this.buffer.slice(start, newline);
      start = newline + 1;
      const line = /^(\d{4})([ -])(.*)$/.exec(raw);
      if (!line) {
        // ` text` continues the previous line's code; BIRD leads such lines with one space.
        const previous = this.pending[this.pending.length - 1];
        this.pending.push({ code: previous?.code ?? 0, text: raw.startsWith(' ') ? raw.slice(1) : raw });
        continue;
      }
      const code = Number(line[1]);
      this.pending.push({ code, text: line[3] ?? '' });
      if (line[2] === ' ') {
        replies.push({ code, lines: this.pending });
        this.pending = [];
      }
    }
    // One slice per chunk, not per line: replies of 10,000 protocols run to megabytes.
    this.buffer = this.buffer.slice(start);
    return replies;
  }
}

/** The reply as `birdc` would print it: the text of every line. */
export function replyText(reply: BirdReply): string {
  return reply.lines.map((line) => line.text).join('\n');
}

/** Whether a final code is a success (0xxx); 8xxx are run-time errors and 9xxx parse errors of the command. */
export function isSuccess(code: number): boolean {
  return code < 1000;
}

function routerUnavailable(path: string, message: string, cause?: unknown): PeeringError {
  return new PeeringError('ROUTER_UNAVAILABLE', `BIRD control socket ${path}: ${message}`, 'router', {
    cause,
  });
}
