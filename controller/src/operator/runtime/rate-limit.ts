/**
 * A token bucket that answers "how long until my turn" instead of refusing: `reserve()` takes a token now or
 * in the future and returns the wait. This is the global limit of the work queue (client-go's
 * `BucketRateLimiter`): however many keys fail at once, retries start at most `perSecond` a second.
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

  /** Milliseconds to wait before acting; the token is spent either way. `0` means at once. */
  reserve(): number {
    if (this.perSecond <= 0) return 0;
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.perSecond) / 1000);
    this.at = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.perSecond);
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
    const count = this.failures.get(key) ?? 0;
    this.failures.set(key, count + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(count, 30));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  count(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}
