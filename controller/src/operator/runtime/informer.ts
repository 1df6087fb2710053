import { backoffDelay } from '../../time/backoff.js';
import type { Resource } from '../resources/object.js';
import { objectKey } from '../resources/object.js';
import { ResourceGoneError } from '../backing/errors.js';
import type { ResourceCollection, Selection, WatchHandle } from '../backing/resource-collection.js';
import { systemClock, type Clock, type TimerHandle } from '../../time/clock.js';
import { silentLogger, type Logger } from './logger.js';
import type { OperatorMetrics } from './metrics.js';

export type InformerEvent = 'add' | 'update' | 'delete';
export type InformerHandler<T> = (event: InformerEvent, object: T) => void;

export interface InformerOptions {
  clock?: Clock;
  logger?: Logger;
  metrics?: OperatorMetrics;
  /** No event and no bookmark for this long: the watch is presumed dead (half-open TCP) and restarted. Default 3 min. */
  silenceMs?: number;
  /** A full relist this often, whatever the watch says. Default 15 min. */
  relistMs?: number;
  /** Wait after a failed list or watch; doubles up to `maxRetryMs`. Defaults 1 s and 30 s. */
  retryMs?: number;
  maxRetryMs?: number;
}

type RestartReason = 'error' | 'silence' | 'relist' | 'gone' | 'start';

/**
 * A cache of one kind kept current by list + watch, which never gives up: it relists on 410, restarts on any
 * error (with backoff), restarts when the watch has been silent too long, and relists periodically, because a
 * watch can go quiet for good without an error (client-node's own informer stops on the first error).
 *
 * Handlers receive changes as hints for a work queue; they must not keep the objects.
 *
 * @example
 * const informer = new Informer(sessions, { namespace: 'peering' });
 * informer.on((event, session) => queue.add(objectKey(session.metadata)));
 * informer.start();
 */
export class Informer<T extends Resource<unknown, unknown>> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly silenceMs: number;
  private readonly relistMs: number;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private watch: WatchHandle | undefined;
  private resourceVersion = '';
  private epoch = 0;
  private synced = false;
  private running = false;
  private failures = 0;
  private lastActivity = 0;
  private watchdog: TimerHandle | undefined;
  private relistTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private syncWaiters: (() => void)[] = [];

  constructor(
    private readonly source: ResourceCollection<T>,
    private readonly selection: Selection = {},
    private readonly options: InformerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({ informer: source.names.plural });
    this.silenceMs = options.silenceMs ?? 180_000;
    this.relistMs = options.relistMs ?? 900_000;
    this.retryMs = options.retryMs ?? 1_000;
    this.maxRetryMs = options.maxRetryMs ?? 30_000;
  }

  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.restart('start');
    this.armWatchdog();
  }

  stop(): void {
    this.running = false;
    this.epoch++;
    this.watch?.stop();
    this.watch = undefined;
    this.watchdog?.cancel();
    this.relistTimer?.cancel();
    this.retryTimer?.cancel();
    for (const waiter of this.syncWaiters.splice(0)) waiter();
  }

  /** The first list is in the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list is in the cache (or the informer is stopped). */
  waitForSync(): Promise<void> {
    if (this.synced || !this.running) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /**
   * Synced, and the watch showed life within the silence window (with a margin for the restart it triggers):
   * what liveness asks.
   */
  healthy(): boolean {
    return this.synced && this.clock.now() - this.lastActivity < this.silenceMs * 2;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  get size(): number {
    return this.cache.size;
  }

  private async restart(reason: RestartReason): Promise<void> {
    if (!this.running) return;
    const epoch = ++this.epoch;
    this.watch?.stop();
    this.watch = undefined;
    this.retryTimer?.cancel();
    if (reason !== 'start') {
      this.options.metrics?.informerRestarts.inc({ resource: this.source.names.plural, reason });
      this.logger.info('informer restarting', { reason });
    }
    try {
      const listed = await this.source.list(this.selection);
      if (epoch !== this.epoch) return;
      this.replace(listed.items);
      this.resourceVersion = listed.resourceVersion;
      this.failures = 0;
      this.lastActivity = this.clock.now();
      this.relistTimer?.cancel();
      this.relistTimer = this.clock.setTimer(this.relistMs, () => void this.restart('relist'));
      if (!this.synced) {
        this.synced = true;
        for (const waiter of this.syncWaiters.splice(0)) waiter();
      }
      this.startWatch(epoch);
    } catch (error) {
      if (epoch !== this.epoch) return;
      this.retryLater(error as Error);
    }
  }

  private startWatch(epoch: number): void {
    this.watch = this.source.watch(
      this.resourceVersion,
      {
        event: (type, object) => {
          if (epoch !== this.epoch) return;
          this.lastActivity = this.clock.now();
          const version = object.metadata.resourceVersion;
          if (version) this.resourceVersion = version;
          const key = objectKey(object.metadata);
          if (type === 'DELETED') {
            if (this.cache.delete(key)) this.emit('delete', object);
            return;
          }
          const old = this.cache.get(key);
          this.cache.set(key, object);
          if (!old) this.emit('add', object);
          else if (old.metadata.resourceVersion !== version) this.emit('update', object);
        },
        bookmark: (version) => {
          if (epoch !== this.epoch) return;
          this.lastActivity = this.clock.now();
          this.resourceVersion = version;
        },
        error: (error) => {
          if (epoch !== this.epoch) return;
          if (error instanceof ResourceGoneError) void this.restart('gone');
          else this.retryLater(error);
        },
        closed: () => {
          if (epoch !== this.epoch || !this.running) return;
          // The server ends every watch after its timeout: continue from where it stopped.
          this.lastActivity = this.clock.now();
          this.startWatch(epoch);
        },
      },
      this.selection,
    );
  }

  private retryLater(error: Error): void {
    this.watch?.stop();
    this.watch = undefined;
    this.failures++;
    const wait = backoffDelay(this.failures, { baseMs: this.retryMs, maxMs: this.maxRetryMs });
    this.logger.warn('informer failed; retrying', { error, waitMs: wait });
    this.retryTimer?.cancel();
    this.retryTimer = this.clock.setTimer(wait, () => void this.restart('error'));
  }

  private armWatchdog(): void {
    const check = Math.max(10, Math.floor(this.silenceMs / 4));
    this.watchdog = this.clock.setTimer(check, () => {
      if (!this.running) return;
      if (this.watch && this.clock.now() - this.lastActivity > this.silenceMs) void this.restart('silence');
      this.armWatchdog();
    });
  }

  /** A relist: the diff against the cache becomes events, so nothing that changed while blind is missed. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const object of items) {
      const key = objectKey(object.metadata);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, object);
      if (!old) this.emit('add', object);
      else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) this.emit('update', object);
    }
    for (const [key, object] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit('delete', object);
    }
  }

  private emit(event: InformerEvent, object: T): void {
    for (const handler of this.handlers) {
      try {
        handler(event, object);
      } catch (error) {
        this.logger.error('informer handler failed', { error });
      }
    }
  }
}
