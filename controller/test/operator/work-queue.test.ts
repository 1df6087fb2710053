import { ManualClock, settle } from '../../src/time/clock.js';
import { WorkQueue } from '../../src/operator/runtime/work-queue.js';
import { TokenBucket } from '../../src/time/rate-limit.js';

describe('WorkQueue', () => {
  it('never queues a key twice', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
  });

  it('never hands a key to two workers, and processes it again when it changed meanwhile', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add('a');
    const key = await queue.get();
    queue.add('a'); // an event while "a" is being reconciled
    expect(queue.length).toBe(0);
    let second: string | undefined;
    void queue.get().then((k) => (second = k));
    await settle();
    expect(second).toBeUndefined();
    queue.done(key as string);
    await settle();
    expect(second).toBe('a');
  });

  it('backs a failing key off exponentially from 5 s to 5 min, and forget() starts again', async () => {
    const queue = new WorkQueue({ clock: new ManualClock(), rateLimit: { perSecond: 0, burst: 0 } });
    const waits = Array.from({ length: 9 }, () => queue.addRateLimited('a'));
    expect(waits).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    queue.forget('a');
    expect(queue.addRateLimited('a')).toBe(5_000);
  });

  it('keeps the earliest of two delayed adds and fires it on time', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter('a', 10_000);
    queue.addAfter('a', 3_000);
    queue.addAfter('a', 20_000);
    await clock.advance(2_999);
    expect(queue.length).toBe(0);
    await clock.advance(1);
    expect(queue.length).toBe(1);
    await clock.advance(20_000);
    expect(queue.length).toBe(1);
  });

  it('spreads a mass failure out under the global rate limit', () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({
      clock,
      backoff: { baseMs: 5, maxMs: 5 },
      rateLimit: { perSecond: 10, burst: 5 },
    });
    const waits = Array.from({ length: 8 }, (_, i) => queue.addRateLimited(`k${i}`));
    // Five from the burst at the per-key backoff, then one every 100 ms.
    expect(waits).toEqual([5, 5, 5, 5, 5, 100, 200, 300]);
  });

  it('releases waiting workers with undefined on shutdown and drops delayed adds', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    const waiting = queue.get();
    queue.addAfter('a', 1000);
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    expect(clock.pending).toBe(0);
    queue.add('b');
    expect(await queue.get()).toBeUndefined();
  });
});

describe('TokenBucket', () => {
  it('refills continuously up to the burst', () => {
    let now = 0;
    const bucket = new TokenBucket(2, 2, () => now);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 500]);
    now = 10_000;
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 500]);
  });
});
