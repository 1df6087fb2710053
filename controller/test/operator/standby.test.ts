import { jest } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LeaseRecord, LeaseStore } from '../../src/operator/runtime/leader-election.js';
import { ResourceConflictError } from '../../src/operator/backing/errors.js';
import { RecordingRouterDriver } from '../../src/router/recording.js';
import { approvedInboundSession } from './fixtures/manifests.js';
import { startNetwork, temporaryEmbeddedBacking, type Network } from './support/network.js';

/** A Lease another replica holds for an hour: whoever asks stays a standby. */
function leaseHeldElsewhere(): LeaseStore {
  const record: LeaseRecord = {
    holderIdentity: 'the-leader',
    leaseDurationSeconds: 3_600,
    acquireTime: new Date().toISOString(),
    renewTime: new Date().toISOString(),
    resourceVersion: '1',
  };
  return {
    get: async () => ({ ...record }),
    create: async () => {
      throw new ResourceConflictError('exists', true);
    },
    update: async () => {
      throw new ResourceConflictError('stale');
    },
  };
}

describe('a standby replica (issue 13)', () => {
  const { backing, cleanup } = temporaryEmbeddedBacking();
  let network: Network | undefined;
  afterAll(async () => {
    jest.useRealTimers();
    await network?.stop();
    cleanup();
  });

  it('writes no status, not even for a session past its time window: only the leader applies the window', async () => {
    // Only setInterval is faked: the API server's former sweep ran on it every minute; everything else is real.
    jest.useFakeTimers({
      doNotFake: [
        'Date',
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
      ],
    });
    const session = approvedInboundSession();
    const created = await backing.sessions.create(session);

    network = await startNetwork({
      asn: 64500,
      callers: [64501],
      backing: { ...backing, leases: leaseHeldElsewhere() },
      router: new RecordingRouterDriver(),
      namespace: 'ns',
      timeWindow: '1ms',
      extra: { leaderElection: { identity: 'standby', leaseDurationMs: 3_600_000 } },
    });
    await sleep(50);
    expect(network.operator.isLeader()).toBe(false);
    jest.advanceTimersByTime(3 * 60_000);
    await sleep(500);

    const after = await backing.sessions.get('ns', 'as64501-ix1');
    expect(after?.status).toBeUndefined();
    expect(after?.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });
});
