import { systemClock, type Clock, type TimerHandle } from '../../time/clock.js';
import { ExponentialBackoff, TokenBucket } from '../../time/rate-limit.js';

export interface WorkQueueOptions {
  clock?: Clock;
  /** Per-key backoff after failures; default 5 s doubling to 5 min. */
  backoff?: { baseMs: number; maxMs: number };
  /** Global limit on rate-limited re-adds; default 10 a second, bursts of 100. `perSecond: 0` turns it off. */
  rateLimit?: { perSecond: number; burst: number };
  /** Told whenever the depth changes (for a gauge). */
  onDepth?: (depth: number) => void;
}

/**
 * The work queue of a controller, with client-go's guarantees: a key is never queued twice, never processed by
 * two workers at once, and a key that changes while it is processed is processed again afterwards. Watch events
 * are only hints ("this key is dirty"); the reconciler always reads the latest object.
 *
 * @example
 * const queue = new WorkQueue();
 * queue.add('ns/as64501');
 * const key = await queue.get();
 * try { await reconcile(key); queue.forget(key); } catch { queue.addRateLimited(key); } finally { queue.done(key); }
 */
export class WorkQueue {
  private readonly clock: Clock;
  private readonly backoff: ExponentialBackoff;
  private readonly bucket: TokenBucket;
  private readonly queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: TimerHandle }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly onDepth: (depth: number) => void;
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    const backoff = options.backoff ?? { baseMs: 5_000, maxMs: 300_000 };
    this.backoff = new ExponentialBackoff(backoff.baseMs, backoff.maxMs);
    const rate = options.rateLimit ?? { perSecond: 10, burst: 100 };
    this.bucket = new TokenBucket(rate.perSecond, rate.burst, () => this.clock.now());
    this.onDepth = options.onDepth ?? (() => undefined);
  }

  /** Queues `key` now (a no-op if it is queued already). */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // done() queues it again
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
    this.onDepth(this.length);
  }

  /** Queues `key` after `ms`; an earlier pending add of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.clock.setTimer(ms, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { at, timer });
  }

  /**
   * Queues `key` after its backoff (which grows with each call), the global limit or `atLeastMs`, whichever is
   * latest; returns the wait.
   */
  addRateLimited(key: string, atLeastMs = 0): number {
    const wait = Math.max(this.backoff.next(key), this.bucket.reserve(), atLeastMs);
    this.addAfter(key, wait);
    return wait;
  }

  /** The key succeeded: its backoff starts again from the base. */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  /** Failures since the last `forget`. */
  failures(key: string): number {
    return this.backoff.count(key);
  }

  /** The next key to process; `undefined` once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.head < this.queue.length) {
      const key = this.queue[this.head++] as string;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.dirty.delete(key);
      this.processing.add(key);
      this.onDepth(this.length);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Processing of `key` ended; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  /** Keys waiting (not those in progress or delayed). */
  get length(): number {
    return this.queue.length - this.head;
  }

  /** Keys waiting for a delayed add. */
  get delayedCount(): number {
    return this.delayed.size;
  }

  get inProgress(): number {
    return this.processing.size;
  }

  /** Stops handing out keys: waiting `get()`s resolve with `undefined`; delayed adds are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    this.queue.length = 0;
    this.head = 0;
    this.dirty.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
    this.onDepth(0);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }
}
