import { RateLimiter } from '../../src/api/rate-limit.js';
import { retryDelay, DEFAULT_RETRY_POLICY } from '../../src/client/retry.js';
import { nextPollMs } from '../../src/operator/reconcilers/session-decisions.js';
import { backoffDelay } from '../../src/time/backoff.js';
import { ManualClock, systemClock } from '../../src/time/clock.js';
import { ExponentialBackoff, TokenBucket } from '../../src/time/rate-limit.js';

describe('one backoff formula', () => {
  it('doubles from the base up to the ceiling, counting failures from 1', () => {
    const policy = { baseMs: 5_000, maxMs: 300_000 };
    expect([0, 1, 2, 3, 4, 7, 60, 5000].map((f) => backoffDelay(f, policy))).toEqual([
      5_000, 5_000, 10_000, 20_000, 40_000, 300_000, 300_000, 300_000,
    ]);
  });

  it('with equal jitter waits between half and all of the same ceiling', () => {
    const policy = { baseMs: 100, maxMs: 10_000, jitter: 'equal' as const };
    expect(backoffDelay(3, policy, () => 0)).toBe(200);
    expect(backoffDelay(3, policy, () => 1)).toBe(400);
    expect(backoffDelay(30, policy, () => 0.5)).toBe(7_500);
  });

  it('is the formula of the client, the work queue and the polling of peers', () => {
    const fixed = () => 0.5;
    expect(retryDelay({ kind: 'network' }, 2, true, DEFAULT_RETRY_POLICY, fixed)).toBe(
      backoffDelay(3, { baseMs: 250, maxMs: 10_000, jitter: 'equal' }, fixed),
    );
    const queue = new ExponentialBackoff(5_000, 300_000);
    expect([queue.next('a'), queue.next('a'), queue.next('a')]).toEqual([5_000, 10_000, 20_000]);
    expect(nextPollMs('approved', undefined, 3, 0)).toBe(backoffDelay(3, { baseMs: 5_000, maxMs: 300_000 }));
  });
});

describe('one token bucket', () => {
  it('take() refuses when empty and says how long until the next token', () => {
    let now = 0;
    const bucket = new TokenBucket(2, 2, () => now);
    expect([bucket.take(), bucket.take()]).toEqual([0, 0]);
    expect(bucket.take()).toBe(500);
    expect(bucket.take()).toBe(500); // a refusal spends nothing
    now += 500;
    expect(bucket.take()).toBe(0);
  });

  it('reserve() always takes a token, now or later, so waits grow', () => {
    const bucket = new TokenBucket(2, 1, () => 0);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 500, 1000]);
  });

  it("is the API's per-caller limit: seconds to wait, each caller its own bucket", () => {
    let now = 0;
    const limiter = new RateLimiter(60, () => now);
    for (let i = 0; i < 60; i++) expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0);
    now += 1_000;
    expect(limiter.take('a')).toBe(0);
  });
});

describe('one clock', () => {
  it('a manual clock sleeps until advanced, and an abort ends the sleep', async () => {
    const clock = new ManualClock(0);
    let woke = false;
    const sleeping = clock.sleep(1_000).then(() => (woke = true));
    await clock.advance(999);
    expect(woke).toBe(false);
    await clock.advance(1);
    await sleeping;
    expect(woke).toBe(true);

    const controller = new AbortController();
    const cancelled = clock.sleep(1_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(cancelled).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
  });

  it('the system clock sleeps for real and honours an abort', async () => {
    const started = Date.now();
    await systemClock.sleep(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    await expect(systemClock.sleep(10_000, AbortSignal.abort(new Error('gone')))).rejects.toThrow();
  });
});
