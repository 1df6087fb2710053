import { backoffDelay } from './backoff.js';

/**
 * The one token bucket: `perSecond` tokens a second, refilled continuously, up to `burst`. Two ways to use it:
 * `take()` refuses when empty and says how long until a token (the API's per-caller limit), `reserve()` always
 * takes one, now or in the future, and returns the wait (client-go's `BucketRateLimiter`, the work queue's
 * global limit: however many keys fail at once, retries start at most `perSecond` a second).
 *
 * @example
 * const bucket = new TokenBucket(1, 60, Date.now);
 * if (bucket.take() > 0) answerTooManyRequests();
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.at = now();
  }

  /** A token now (`0`), or none and the milliseconds until there is one. */
  take(): number {
    if (this.perSecond <= 0) return 0;
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.perSecond);
  }

  /** Milliseconds to wait before acting; the token is spent either way. `0` means at once. */
  reserve(): number {
    if (this.perSecond <= 0) return 0;
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.perSecond);
  }

  /** When the bucket was last used (a full bucket idle since then can be forgotten). */
  get lastUsed(): number {
    return this.at;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.perSecond) / 1000);
    this.at = now;
  }
}

/** Per-key exponential backoff: `base * 2^failures`, capped (cert-manager: 5 s → 5 min). */
export class ExponentialBackoff {
  private readonly failures = new Map<string, number>();

  constructor(
    readonly baseMs: number,
    readonly maxMs: number,
  ) {}

  /** Counts a failure of `key` and returns the wait before its next attempt. */
  next(key: string): number {
    const count = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, count);
    return backoffDelay(count, this);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  count(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}
