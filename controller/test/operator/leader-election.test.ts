import { ManualClock } from '../../src/time/clock.js';
import {
  LeaderElector,
  type LeaseRecord,
  type LeaseStore,
} from '../../src/operator/runtime/leader-election.js';
import { ResourceConflictError } from '../../src/operator/backing/errors.js';

/** One Lease with resourceVersion preconditions, like the API server's. */
class MemoryLeases {
  record: LeaseRecord | undefined;
  private version = 0;
  down = new Set<string>();

  storeFor(identity: string): LeaseStore {
    const check = () => {
      if (this.down.has(identity)) throw new Error(`${identity} cannot reach the API server`);
    };
    return {
      get: async () => {
        check();
        return this.record && { ...this.record };
      },
      create: async (record) => {
        check();
        if (this.record) throw new ResourceConflictError('exists', true);
        this.record = { ...record, resourceVersion: String(++this.version) };
        return { ...this.record };
      },
      update: async (record) => {
        check();
        if (record.resourceVersion !== this.record?.resourceVersion) throw new ResourceConflictError('stale');
        this.record = { ...record, resourceVersion: String(++this.version) };
        return { ...this.record };
      },
    };
  }
}

function replica(leases: MemoryLeases, clock: ManualClock, identity: string) {
  const log: string[] = [];
  const elector = new LeaderElector(leases.storeFor(identity), {
    identity,
    clock,
    onStartedLeading: () => log.push('start'),
    onStoppedLeading: () => log.push('stop'),
  });
  return { elector, log };
}

/** Two replicas on one Lease, "a" started 100 ms before "b". */
async function twoReplicas() {
  const clock = new ManualClock();
  const leases = new MemoryLeases();
  const a = replica(leases, clock, 'a');
  const b = replica(leases, clock, 'b');
  a.elector.start();
  await clock.advance(100);
  b.elector.start();
  return { clock, leases, a, b };
}

describe('LeaderElector', () => {
  it('lets exactly one of two replicas lead', async () => {
    const { clock, leases, a, b } = await twoReplicas();
    await clock.advance(60_000);
    expect([a.elector.isLeader, b.elector.isLeader]).toEqual([true, false]);
    expect(leases.record?.holderIdentity).toBe('a');
    expect(b.log).toEqual([]);
  });

  it('has the standby take over within 15 s of the leader dying', async () => {
    const { clock, leases, b } = await twoReplicas();
    await clock.advance(30_000);
    // "a" dies: it stops renewing without a word (a SIGKILL, a node gone).
    leases.down.add('a');
    const died = clock.now();
    let tookOver: number | undefined;
    for (let t = 0; t < 30_000 && tookOver === undefined; t += 100) {
      await clock.advance(100);
      if (b.elector.isLeader) tookOver = clock.now();
    }
    expect(tookOver).toBeDefined();
    expect((tookOver as number) - died).toBeLessThanOrEqual(15_000);
    expect(leases.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('steps down when it cannot renew within the deadline, and reports unhealthy before that', async () => {
    const clock = new ManualClock();
    const leases = new MemoryLeases();
    const a = replica(leases, clock, 'a');
    a.elector.start();
    await clock.advance(5_000);
    leases.down.add('a');
    await clock.advance(6_000);
    expect(a.elector.isLeader).toBe(true);
    await clock.advance(2_000);
    expect(a.elector.isLeader).toBe(false);
    expect(a.log).toEqual(['start', 'stop']);
    expect(a.elector.healthy()).toBe(true);
  });

  it('releases the lease on a graceful stop so the standby takes over at once', async () => {
    const { clock, a, b } = await twoReplicas();
    await clock.advance(10_000);
    await a.elector.stop();
    await clock.advance(2_100);
    expect(b.elector.isLeader).toBe(true);
  });

  it('never lets a stale write win (resourceVersion precondition)', async () => {
    const clock = new ManualClock();
    const leases = new MemoryLeases();
    leases.record = { holderIdentity: '', leaseDurationSeconds: 10, resourceVersion: '0' };
    const a = replica(leases, clock, 'a');
    const b = replica(leases, clock, 'b');
    a.elector.start();
    b.elector.start();
    await clock.advance(10_000);
    expect([a.elector.isLeader, b.elector.isLeader].filter(Boolean)).toHaveLength(1);
  });
});
