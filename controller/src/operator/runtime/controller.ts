import { systemClock, type Clock, type TimerHandle } from '../../time/clock.js';
import { silentLogger, type Logger } from './logger.js';
import type { OperatorMetrics } from './metrics.js';
import { WorkQueue, type WorkQueueOptions } from './work-queue.js';

/** What a reconcile asks for next: nothing (wait for a change), or another look after `requeueAfterMs`. */
export interface ReconcileResult {
  requeueAfterMs?: number | undefined;
}

/** One reconcile of one key. Throwing means "try again with backoff". */
export type Reconcile = (key: string) => Promise<ReconcileResult | void>;

export interface ControllerOptions {
  name: string;
  reconcile: Reconcile;
  /** Keys reconciled at once; default 4. */
  workers?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: OperatorMetrics;
  queue?: Omit<WorkQueueOptions, 'clock' | 'onDepth'>;
  /** Every key of `resyncKeys()` is queued this often (a periodic full resync); 0 turns it off. Default 10 min. */
  resyncMs?: number;
  resyncKeys?: () => Iterable<string>;
}

/**
 * One controller: a work queue and its workers. Watch events call {@link enqueue}; a worker takes a key,
 * reconciles it from the latest object, and on failure puts it back with per-key exponential backoff under a
 * global rate limit; `requeueAfterMs` polls. `stop()` lets reconciles in progress finish.
 *
 * @example
 * const controller = new Controller({ name: 'peeringsession', reconcile: (key) => sessions.reconcile(key) });
 * informer.on((_event, object) => controller.enqueue(objectKey(object.metadata)));
 * controller.start();
 */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly workers: number;
  private readonly running: Promise<void>[] = [];
  private resyncTimer: TimerHandle | undefined;
  private started = false;

  constructor(private readonly options: ControllerOptions) {
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({ controller: options.name });
    this.workers = options.workers ?? 4;
    this.queue = new WorkQueue({
      ...options.queue,
      clock: this.clock,
      onDepth: (depth) => options.metrics?.queueDepth.set({ controller: options.name }, depth),
    });
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (let i = 0; i < this.workers; i++) this.running.push(this.work());
    this.armResync();
  }

  /** Stops taking keys and waits for the reconciles in progress (at most `graceMs`). */
  async stop(graceMs = 30_000): Promise<void> {
    this.resyncTimer?.cancel();
    this.queue.shutDown();
    let timer: TimerHandle | undefined;
    const grace = new Promise<void>((resolve) => (timer = this.clock.setTimer(graceMs, resolve)));
    await Promise.race([Promise.all(this.running), grace]);
    timer?.cancel();
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    const started = this.clock.now();
    const metrics = this.options.metrics;
    try {
      const result = await this.options.reconcile(key);
      this.queue.forget(key);
      if (result?.requeueAfterMs !== undefined && result.requeueAfterMs >= 0) {
        this.queue.addAfter(key, result.requeueAfterMs);
        metrics?.reconciles.inc({ controller: this.name, result: 'requeue' });
      } else {
        metrics?.reconciles.inc({ controller: this.name, result: 'success' });
      }
    } catch (error) {
      // A peer that said when to come back (429/503 with Retry-After) is not asked sooner.
      const retryAfter = (error as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
      const wait = this.queue.addRateLimited(key, typeof retryAfter === 'number' ? retryAfter * 1000 : 0);
      metrics?.reconciles.inc({ controller: this.name, result: 'error' });
      metrics?.retries.inc({ controller: this.name });
      this.logger.warn('reconcile failed; retrying with backoff', {
        key,
        error,
        retryInMs: wait,
        failures: this.queue.failures(key),
      });
    } finally {
      metrics?.reconcileDuration.observe({ controller: this.name }, (this.clock.now() - started) / 1000);
      this.queue.done(key);
    }
  }

  private armResync(): void {
    const every = this.options.resyncMs ?? 600_000;
    const keys = this.options.resyncKeys;
    if (every <= 0 || !keys) return;
    this.resyncTimer = this.clock.setTimer(every, () => {
      for (const key of keys()) this.queue.add(key);
      this.armResync();
    });
  }
}
