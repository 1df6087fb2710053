import type { FastifyBaseLogger } from 'fastify';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A sink for log lines; stdout by default, an array in tests. */
export type LogSink = (line: string) => void;

/**
 * Structured JSON logs, one object a line (`{"time","level","msg",...fields}`), as log collectors in a cluster
 * expect. Child loggers carry fields such as `controller` and `key`.
 *
 * @example
 * const log = new Logger({ level: 'info' }).child({ controller: 'peeringsession' });
 * log.info('configured', { key: 'ns/as64501-ix1', sessionId });
 */
export class Logger {
  private readonly threshold: number;
  private readonly sink: LogSink;
  private readonly fields: Record<string, unknown>;

  constructor(options: { level?: LogLevel; sink?: LogSink; fields?: Record<string, unknown> } = {}) {
    this.threshold = LEVELS[options.level ?? 'info'];
    this.sink = options.sink ?? ((line) => process.stdout.write(`${line}\n`));
    this.fields = options.fields ?? {};
  }

  child(fields: Record<string, unknown>): Logger {
    const child = Object.create(Logger.prototype) as Logger;
    Object.assign(child, {
      threshold: this.threshold,
      sink: this.sink,
      fields: { ...this.fields, ...fields },
    });
    return child;
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS[level] < this.threshold) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...this.fields };
    for (const [key, value] of Object.entries(fields ?? {})) {
      entry[key] = value instanceof Error ? { name: value.name, message: value.message } : value;
    }
    this.sink(JSON.stringify(entry));
  }
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger = new Logger({ level: 'error', sink: () => undefined });

/**
 * The logger in the shape Fastify (pino's call style: `log(fields, msg)` or `log(msg)`) expects, writing to
 * `logger`, so that the Peering API server logs into the operator's one JSON stream, each request's lines
 * carrying its `reqId`.
 *
 * Why an adapter rather than pino everywhere: this Logger is small, synchronous (a line is written before a
 * crash can lose it), tested with an array sink, and called as `log(msg, fields)` at every call site of the
 * operator; pino would change all of them and the stream's flushing, for one server that needs only this
 * translation. ADR 0005.
 *
 * @example
 * const app = Fastify({ loggerInstance: fastifyLogger(logger.child({ server: 'peering-api' })) });
 */
export function fastifyLogger(logger: Logger): FastifyBaseLogger {
  const at =
    (level: LogLevel) =>
    (first: unknown, msg?: unknown): void => {
      if (typeof first === 'string') logger[level](first);
      else if (first instanceof Error)
        logger[level](typeof msg === 'string' ? msg : first.message, { err: first });
      else logger[level](typeof msg === 'string' ? msg : '', (first ?? {}) as Record<string, unknown>);
    };
  return {
    // Everything goes through; `logger` drops what is under its own level.
    level: 'debug',
    fatal: at('error'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('debug'),
    silent: () => undefined,
    child: (bindings) => fastifyLogger(logger.child(bindings)),
  };
}
