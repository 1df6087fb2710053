import { setTimeout as delay } from 'node:timers/promises';

/** A pending timer of a {@link Clock}. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * Time, injectable: the client's retries, the operator's work queue, leader election and informer watchdog all
 * ask this one interface, so tests drive them with {@link ManualClock} (or a clock of their own) instead of
 * waiting.
 */
export interface Clock {
  now(): number;
  /** Calls `callback` after `ms`; the timer never keeps the process alive on its own. */
  setTimer(ms: number, callback: () => void): TimerHandle;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Sleeps on a clock's timers, cancelled by the signal. */
function sleepOn(clock: Pick<Clock, 'setTimer'>, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, callback) => {
    const timer = setTimeout(callback, Math.max(0, ms));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
  // A sleep someone awaits keeps the process alive, as a plain setTimeout would.
  sleep: (ms, signal) => delay(Math.max(0, ms), undefined, signal === undefined ? undefined : { signal }),
};

/**
 * A clock that moves only when told to: `advance(ms)` fires every timer due by then, in order.
 *
 * @example
 * const clock = new ManualClock();
 * const queue = new WorkQueue({ clock });
 * queue.addAfter('ns/a', 5000);
 * await clock.advance(5000); // 'ns/a' is queued now
 */
export class ManualClock implements Clock {
  private current: number;
  private timers: { at: number; seq: number; callback: () => void }[] = [];
  private seq = 0;

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  setTimer(ms: number, callback: () => void): TimerHandle {
    const timer = { at: this.current + Math.max(0, ms), seq: this.seq++, callback };
    this.timers.push(timer);
    return { cancel: () => (this.timers = this.timers.filter((t) => t !== timer)) };
  }

  /** Moves time forward, firing due timers one by one and letting promises settle in between. */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    for (;;) {
      await settle();
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.current = next.at;
      next.callback();
      await settle();
    }
    this.current = end;
    await settle();
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }
}

/** Lets queued promise callbacks run (a few turns of the event loop). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
