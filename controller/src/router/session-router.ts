import { PeeringError } from '../domain/errors.js';
import type { ApplyResult, DesiredSession, ObservedSession, RouterDriver, SessionOutcome } from './driver.js';
import { systemClock, type Clock, type TimerHandle } from '../time/clock.js';

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
  answered: boolean;
}

export interface SessionRouterOptions {
  clock?: Clock;
  /** A change waits this long for others to join its batch when the router is idle. Default 5 ms. */
  batchWindowMs?: number;
  /** Most sessions in one batch. Default 1000. */
  maxBatch?: number;
  /** An observation younger than this is answered from memory. Default 2 s. */
  observeMaxAgeMs?: number;
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
  /** The observation queued behind the one running, which callers changed meanwhile join. */
  private scheduled: Promise<Observation> | undefined;
  /** Counts observations begun; a key changed in epoch e is covered by the observation of epoch e + 1. */
  private epoch = 0;
  /** The epoch in which each key was last changed on the router, until an observation covers it. */
  private readonly changedIn = new Map<string, number>();
  /** Batches go to the driver one after the other: a driver (BIRD) is not made for parallel reloads. */
  private flushing = false;
  /** The batch or sync the driver is working on, while `flushing`. */
  private inFlight: Promise<unknown> = Promise.resolve();

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
   * Makes the router's managed sessions exactly `desired` ({@link RouterDriver.sync}), in turn with the batches:
   * after the one in progress, before the changes queued meanwhile.
   */
  async sync(desired: readonly DesiredSession[]): Promise<ApplyResult> {
    while (this.flushing) await this.inFlight.catch(() => undefined);
    this.flushing = true;
    const run = this.driver.sync(desired);
    this.inFlight = run;
    try {
      const result = await run;
      this.noteChanges(result);
      return result;
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /**
   * What the router reports for `key`: from an observation at most `observeMaxAgeMs` old that began after the
   * key's last change. A whole-router observation (BIRD: `show protocols all`) costs in proportion to all sessions,
   * so one runs at a time: sessions changed while it runs wait for the next, which begins when it ends and
   * answers them all. The observations then keep pace with the router, however small the batches.
   */
  async observed(key: string): Promise<ObservedSession | undefined> {
    const maxAge = this.options.observeMaxAgeMs ?? 2_000;
    let observation = this.observation;
    const changed = (this.changedIn.get(key) ?? -1) >= (observation?.epoch ?? 0);
    if (changed || !observation) {
      observation = await this.next();
    } else if (observation.answered && this.clock.now() - observation.at > maxAge) {
      observation = await this.next();
    }
    return (await observation.byKey).get(key);
  }

  /**
   * The router's whole observed set, by key: the last observation when it is younger than the maximum age and
   * covers every change, else a new one (which callers asking meanwhile share).
   */
  async observeAll(): Promise<ReadonlyMap<string, ObservedSession>> {
    const maxAge = this.options.observeMaxAgeMs ?? 2_000;
    let observation = this.observation;
    const stale =
      !observation ||
      this.changedIn.size > 0 ||
      (observation.answered && this.clock.now() - observation.at > maxAge);
    if (stale) observation = await this.next();
    return (observation as Observation).byKey;
  }

  /** An observation that begins from now on: at once when none runs, else right after the one running. */
  private next(): Promise<Observation> {
    if (this.scheduled) return this.scheduled;
    const running = this.observation && !this.observation.answered ? this.observation : undefined;
    if (!running) return Promise.resolve(this.begin());
    const settled = running.byKey.then(
      () => undefined,
      () => undefined,
    );
    this.scheduled = settled.then(() => {
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
    const observation: Observation = { at: this.clock.now(), epoch: this.epoch, byKey, answered: false };
    this.observation = observation;
    byKey.then(
      () => (observation.answered = true),
      // A failed observation is not kept: the next caller tries again (every caller waiting sees the error).
      () => {
        observation.answered = true;
        if (this.observation === observation) this.observation = undefined;
      },
    );
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
    this.inFlight = this.flush(batch).finally(() => {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    });
  }

  /** Sessions the router changed are answered by the next observation, not by one begun before. */
  private noteChanges(result: ApplyResult): void {
    for (const outcome of result.sessions) {
      if (outcome.outcome !== 'configured' || outcome.change !== 'unchanged') {
        this.changedIn.set(outcome.key, this.epoch);
      }
    }
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
      this.noteChanges(result);
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
