import { TokenBucket } from '../time/rate-limit.js';

/**
 * A token bucket per caller: `perMinute` requests, refilled continuously, bursts up to the same amount.
 * In memory and per replica; with several replicas each enforces its own share, which errs on the generous side.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 when the request may go ahead, else the seconds to wait. */
  take(key: string): number {
    if (this.perMinute === 0) return 0;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.perMinute / 60, this.perMinute, this.now);
      this.buckets.set(key, bucket);
      if (this.buckets.size > 100_000) this.prune(this.now());
    }
    return Math.ceil(bucket.take() / 1000);
  }

  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) if (now - bucket.lastUsed > 60_000) this.buckets.delete(key);
  }
}
