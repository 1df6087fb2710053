import { ManualClock, settle } from '../../src/time/clock.js';
import { Controller } from '../../src/operator/runtime/controller.js';
import { OperatorMetrics } from '../../src/operator/runtime/metrics.js';

describe('Controller', () => {
  it('retries a failing key with backoff, not in a hot loop, and counts the errors', async () => {
    const clock = new ManualClock();
    const metrics = new OperatorMetrics();
    const attempts: number[] = [];
    const controller = new Controller({
      name: 'test',
      clock,
      metrics,
      resyncMs: 0,
      reconcile: async () => {
        attempts.push(clock.now());
        if (attempts.length < 4) throw new Error('peer down');
      },
    });
    controller.start();
    controller.enqueue('ns/a');
    await clock.advance(60_000);
    const start = attempts[0] as number;
    expect(attempts.map((t) => t - start)).toEqual([0, 5_000, 15_000, 35_000]);
    await clock.advance(600_000);
    expect(attempts).toHaveLength(4);
    const errors = await metrics.reconciles.get();
    expect(errors.values.find((v) => v.labels.result === 'error')?.value).toBe(3);
    await controller.stop();
  });

  it('polls with requeueAfter and resyncs every known key periodically', async () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    const controller = new Controller({
      name: 'test',
      clock,
      resyncMs: 100_000,
      resyncKeys: () => ['ns/x', 'ns/y'],
      reconcile: async (key) => {
        seen.push(key);
        return key === 'ns/poll' ? { requeueAfterMs: 30_000 } : {};
      },
    });
    controller.start();
    controller.enqueue('ns/poll');
    await clock.advance(90_000);
    expect(seen).toEqual(['ns/poll', 'ns/poll', 'ns/poll', 'ns/poll']);
    await clock.advance(10_000);
    expect(seen.slice(4).sort()).toEqual(['ns/x', 'ns/y']);
    await controller.stop();
  });

  it('reconciles different keys in parallel but one key never twice at once', async () => {
    const clock = new ManualClock();
    let active = 0;
    let maxActive = 0;
    const perKey = new Map<string, number>();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const controller = new Controller({
      name: 'test',
      clock,
      workers: 3,
      resyncMs: 0,
      reconcile: async (key) => {
        active++;
        perKey.set(key, (perKey.get(key) ?? 0) + 1);
        maxActive = Math.max(maxActive, active);
        await gate;
        active--;
      },
    });
    controller.start();
    for (const key of ['a', 'b', 'c', 'a', 'a']) controller.enqueue(key);
    await settle();
    expect(maxActive).toBe(3);
    controller.enqueue('a');
    release();
    await settle();
    expect(perKey.get('a')).toBe(2);
    await controller.stop();
  });

  it('stop() waits for the reconcile in progress', async () => {
    const clock = new ManualClock();
    let finished = false;
    let release: () => void = () => undefined;
    const controller = new Controller({
      name: 'test',
      clock,
      resyncMs: 0,
      reconcile: async () => {
        await new Promise<void>((resolve) => (release = resolve));
        finished = true;
      },
    });
    controller.start();
    controller.enqueue('a');
    await settle();
    const stopped = controller.stop();
    await settle();
    expect(finished).toBe(false);
    release();
    await stopped;
    expect(finished).toBe(true);
  });
});

describe('Controller and Retry-After', () => {
  it('waits at least as long as the peer asked (429 Retry-After) before trying again', async () => {
    const clock = new ManualClock();
    const attempts: number[] = [];
    const controller = new Controller({
      name: 'test',
      clock,
      resyncMs: 0,
      reconcile: async () => {
        attempts.push(clock.now());
        if (attempts.length === 1) throw Object.assign(new Error('rate limited'), { retryAfterSeconds: 30 });
      },
    });
    controller.start();
    controller.enqueue('ns/a');
    await clock.advance(29_999);
    expect(attempts).toHaveLength(1);
    await clock.advance(1);
    expect(attempts).toHaveLength(2);
    await controller.stop();
  });
});
