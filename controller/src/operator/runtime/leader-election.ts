import { isConflict } from '../backing/errors.js';
import { systemClock, type Clock, type TimerHandle } from '../../time/clock.js';
import { silentLogger, type Logger } from './logger.js';
import type { OperatorMetrics } from './metrics.js';

/** The fields of a `coordination.k8s.io/v1` Lease that leader election uses. */
export interface LeaseRecord {
  holderIdentity?: string | undefined;
  leaseDurationSeconds?: number | undefined;
  acquireTime?: string | undefined;
  renewTime?: string | undefined;
  leaseTransitions?: number | undefined;
  resourceVersion?: string | undefined;
}

/** Where the Lease lives; writes fail with a conflict error on a stale resourceVersion. */
export interface LeaseStore {
  get(): Promise<LeaseRecord | undefined>;
  create(record: LeaseRecord): Promise<LeaseRecord>;
  update(record: LeaseRecord): Promise<LeaseRecord>;
}

export interface LeaderElectionOptions {
  /** This replica's name (the pod name in a cluster). */
  identity: string;
  /**
   * How long a lease holds without renewal. With the defaults (10 s, retry 2 s) a standby takes over at most
   * about 14 s after the leader died: lease + one retry to notice its last renewal + one retry to act.
   */
  leaseDurationMs?: number;
  /** The leader gives up when it could not renew for this long (must be below the lease duration). */
  renewDeadlineMs?: number;
  /** How often to try to acquire or renew. */
  retryPeriodMs?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: OperatorMetrics;
  onStartedLeading: () => void;
  /**
   * Leadership ended: stop every controller. `lost` (the Lease could not be renewed in time): in a pod, exit so
   * the replica restarts clean. `released` (this replica stops on purpose and gave the Lease back): nothing to
   * mend, a SIGTERM exits 0.
   */
  onStoppedLeading: (cause: 'lost' | 'released') => void;
}

/**
 * Lease-based leader election, as client-go does it: a candidate takes the Lease when it is free or expired
 * (expiry measured on the candidate's own clock, from when it last saw the Lease change, so clock skew between
 * nodes does not matter); the leader renews it and steps down when it cannot renew within the renew deadline.
 *
 * @example
 * const election = new LeaderElector(leases, { identity: podName, onStartedLeading: start, onStoppedLeading: () => process.exit(1) });
 * election.start();
 */
export class LeaderElector {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leading = false;
  private running = false;
  private timer: TimerHandle | undefined;
  private observed: { record: LeaseRecord | undefined; at: number } | undefined;
  private lastRenew = 0;

  constructor(
    private readonly store: LeaseStore,
    private readonly options: LeaderElectionOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({ leaderElection: options.identity });
    this.leaseDurationMs = options.leaseDurationMs ?? 10_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 7_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationMs) {
      throw new RangeError('the renew deadline must be shorter than the lease duration');
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Liveness: false when this replica believes it leads but has not renewed within the lease duration. */
  healthy(): boolean {
    return !this.leading || this.clock.now() - this.lastRenew < this.leaseDurationMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.tick();
  }

  /** Stops; a leader releases the Lease so a standby takes over at once instead of after expiry. */
  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    if (!this.leading) return;
    // Released before the Lease write, so that nobody reconciles while the standby may already lead; and said
    // to be `released`, so that a graceful stop is not mistaken for a lost Lease (which exits 1).
    this.setLeading(false, 'released');
    try {
      const current = await this.store.get();
      if (current?.holderIdentity === this.options.identity) {
        await this.store.update({
          ...current,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: microTime(this.clock.now()),
        });
      }
    } catch (error) {
      this.logger.warn('could not release the lease; the standby waits for it to expire', { error });
    }
  }

  /** Stops without a word, as a crashed replica does: nothing is released; the lease expires on its own. */
  abandon(): void {
    this.running = false;
    this.timer?.cancel();
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (error) {
      this.logger.warn('lease update failed', { error });
    }
    if (!this.running) return;
    const now = this.clock.now();
    if (ok) {
      this.lastRenew = now;
      if (!this.leading) {
        this.logger.info('became leader');
        this.setLeading(true);
      }
    } else if (this.leading && now - this.lastRenew >= this.renewDeadlineMs) {
      this.logger.error('lost leadership: could not renew the lease in time');
      this.setLeading(false, 'lost');
    }
    this.timer = this.clock.setTimer(this.retryPeriodMs, () => void this.tick());
  }

  private setLeading(leading: true): void;
  private setLeading(leading: false, cause: 'lost' | 'released'): void;
  private setLeading(leading: boolean, cause: 'lost' | 'released' = 'lost'): void {
    this.leading = leading;
    this.options.metrics?.leader.set(leading ? 1 : 0);
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading(cause);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const identity = this.options.identity;
    const mine: LeaseRecord = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    const current = await this.store.get();
    if (!current) {
      try {
        this.observe(await this.store.create(mine), now);
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    }
    if (
      !this.observed ||
      this.observed.record?.resourceVersion !== current.resourceVersion ||
      this.observed.record?.renewTime !== current.renewTime
    ) {
      this.observe(current, now);
    }
    const holder = current.holderIdentity ?? '';
    const heldByOther = holder !== '' && holder !== identity;
    const leaseMs = (current.leaseDurationSeconds ?? 0) * 1000;
    if (heldByOther && (this.observed?.at ?? now) + leaseMs > now) return false;
    const next: LeaseRecord = {
      ...current,
      holderIdentity: identity,
      leaseDurationSeconds: mine.leaseDurationSeconds,
      renewTime: mine.renewTime,
    };
    if (holder !== identity) {
      next.acquireTime = mine.acquireTime;
      next.leaseTransitions = (current.leaseTransitions ?? 0) + 1;
    }
    try {
      this.observe(await this.store.update(next), now);
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  private observe(record: LeaseRecord, at: number): void {
    this.observed = { record, at };
  }
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
