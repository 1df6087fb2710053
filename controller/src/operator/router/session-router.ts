import { PeeringError } from '../../domain/errors.js';
import type { DesiredSession, ObservedSession, RouterDriver, SessionOutcome } from '../../router/driver.js';
import { systemClock, type Clock, type TimerHandle } from '../runtime/clock.js';

interface Pending {
  upsert?: DesiredSession;
  remove?: string;
  resolve: (outcome: SessionOutcome) => void;
  reject: (error: unknown) => void;
}

/** One whole-router observation; `epoch` counts observations begun, this one included. */
interface Observation {
  at: number;
  epoch: number;
  byKey: Promise<Map<string, ObservedSession>>;
}

export interface SessionRouterOptions {
  clock?: Clock;
  /** A change waits this long for others to join its batch when the router is idle. Default 5 ms. */
  batchWindowMs?: number;
  /** Most sessions in one batch. Default 1000. */
  maxBatch?: number;
  /** An observation younger than this is answered from memory. Default 2 s. */
  observeMaxAgeMs?: number;
  /**
   * A session changed since the last observation waits for a new one, but observations start at most this often:
   * changes arriving in many small batches share a few observations instead of one each. Default 500 ms.
   */
  observeMinIntervalMs?: number;
}

/**
 * The reconcilers' view of the router driver: per-session calls in, batches out. Thousands of sessions reconciled
 * at once become a few `apply` calls (so BIRD reloads a few times, not thousands), and one `observe()` answers
 * every session asking within a short window.
 *
 * @example
 * const router = new SessionRouter(new RecordingRouterDriver());
 * const outcome = await router.configure(desiredSession(terms));
 * const observed = await router.observed(outcome.key);
 */
export class SessionRouter {
  private readonly clock: Clock;
  private queue: Pending[] = [];
  private timer: TimerHandle | undefined;
  private observation: Observation | undefined;
  /** An observation waiting for `observeMinIntervalMs` to pass, which callers join. */
  private scheduled: Promise<Observation> | undefined;
  /** Counts observations begun; a key changed in epoch e is covered by the observation of epoch e + 1. */
  private epoch = 0;
  /** The epoch in which each key was last changed on the router, until an observation covers it. */
  private readonly changedIn = new Map<string, number>();
  /** Batches go to the driver one after the other: a driver (BIRD) is not made for parallel reloads. */
  private flushing = false;

  constructor(
    private readonly driver: RouterDriver,
    private readonly options: SessionRouterOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** Creates or updates one session; resolves with what the router did with it. */
  configure(session: DesiredSession): Promise<SessionOutcome> {
    return this.enqueue({ upsert: session });
  }

  /** Removes one session (a key the router does not have is `absent`, not an error). */
  remove(key: string): Promise<SessionOutcome> {
    return this.enqueue({ remove: key });
  }

  /**
   * What the router reports for `key`: from an observation at most `observeMaxAgeMs` old that began after the
   * key's last change. A whole-router observation (BIRD: `show protocols all`) costs in proportion to all sessions,
   * so sessions changed in many small batches wait for a shared one, at most one per `observeMinIntervalMs`.
   */
  async observed(key: string): Promise<ObservedSession | undefined> {
    const maxAge = this.options.observeMaxAgeMs ?? 2_000;
    let observation = this.observation;
    const changed = (this.changedIn.get(key) ?? -1) >= (observation?.epoch ?? 0);
    if (!observation || this.clock.now() - observation.at > maxAge || changed) {
      observation = await this.refresh(changed ? (this.options.observeMinIntervalMs ?? 500) : 0);
    }
    return (await observation.byKey).get(key);
  }

  /** Forgets the last observation (after a change the caller wants to see at once). */
  invalidate(): void {
    this.observation = undefined;
  }

  /**
   * Starts an observation, or joins the one scheduled: no sooner than `minIntervalMs` after the last one began.
   * It covers every change made before it begins.
   */
  private refresh(minIntervalMs: number): Promise<Observation> {
    if (this.scheduled) return this.scheduled;
    const last = this.observation?.at;
    const wait = last === undefined ? 0 : Math.max(0, last + minIntervalMs - this.clock.now());
    if (wait === 0) return Promise.resolve(this.begin());
    this.scheduled = new Promise<void>((resolve) => this.clock.setTimer(wait, resolve)).then(() => {
      this.scheduled = undefined;
      return this.begin();
    });
    return this.scheduled;
  }

  private begin(): Observation {
    const covered = this.epoch;
    this.epoch = covered + 1;
    for (const [key, changedIn] of this.changedIn) if (changedIn <= covered) this.changedIn.delete(key);
    const byKey = this.driver.observe().then((sessions) => new Map(sessions.map((s) => [s.key, s])));
    const observation = { at: this.clock.now(), epoch: this.epoch, byKey };
    this.observation = observation;
    // A failed observation is not kept: the next caller tries again (and every waiting caller sees the error).
    byKey.catch(() => {
      if (this.observation === observation) this.observation = undefined;
    });
    return observation;
  }

  private enqueue(change: Omit<Pending, 'resolve' | 'reject'>): Promise<SessionOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...change, resolve, reject });
      if (this.queue.length >= (this.options.maxBatch ?? 1000)) this.schedule();
      else this.timer ??= this.clock.setTimer(this.options.batchWindowMs ?? 5, () => this.schedule());
    });
  }

  /**
   * Hands the queued changes to the driver once the batch in progress is done: while the router works, changes
   * pile up and go as one batch, so batches grow with the load and a lone change waits only the short window.
   */
  private schedule(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.flushing) return;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    this.flushing = true;
    void this.flush(batch).finally(() => {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async flush(batch: Pending[]): Promise<void> {
    // The last change of a key in a batch wins; every caller of that key gets its outcome.
    const last = new Map<string, Pending>();
    for (const item of batch) last.set(item.upsert?.key ?? (item.remove as string), item);
    const upsert = [...last.values()].flatMap((p) => (p.upsert ? [p.upsert] : []));
    const remove = [...last.values()].flatMap((p) => (p.remove !== undefined ? [p.remove] : []));
    try {
      const result = await this.driver.apply({ upsert, remove });
      const outcomes = new Map(result.sessions.map((s) => [s.key, s]));
      for (const outcome of result.sessions) {
        if (outcome.outcome !== 'configured' || outcome.change !== 'unchanged') {
          this.changedIn.set(outcome.key, this.epoch);
        }
      }
      for (const item of batch) {
        const key = item.upsert?.key ?? (item.remove as string);
        const outcome = outcomes.get(key);
        if (outcome && last.get(key) === item) item.resolve(outcome);
        else if (outcome)
          item.reject(new PeeringError('INTERNAL', 'superseded by a later change in the same batch'));
        else item.reject(new PeeringError('INTERNAL', `the router driver reported nothing for ${key}`));
      }
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  }
}
