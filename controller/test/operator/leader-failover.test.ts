import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import { RecordingRouterDriver } from '../../src/router/recording.js';
import { CRDS_DIR } from './support/cluster.js';
import { startClusterNetwork } from './support/cluster-network.js';

describeWithControlPlane('two replicas with Lease leader election on a real API server', (plane) => {
  it('has one replica reconcile, and the other take over within 15 s of its death (default timings)', async () => {
    await plane().installCRDs(CRDS_DIR);
    const namespace = await plane().newNamespace('failover');
    const replica = (identity: string) =>
      startClusterNetwork(plane(), {
        asn: 64500,
        callers: [],
        namespace,
        router: new RecordingRouterDriver(),
        identity,
        // The operator's defaults: lease 10 s, renew deadline 7 s, retry 2 s.
        extra: { leaderElection: { identity } },
      });
    const first = await replica('replica-1');
    const second = startClusterNetwork(plane(), {
      asn: 64500,
      callers: [],
      namespace,
      router: new RecordingRouterDriver(),
      identity: 'replica-2',
      extra: { leaderElection: { identity: 'replica-2' } },
    }).catch((error: unknown) => error as Error);
    try {
      await new Promise((r) => setTimeout(r, 3_000));
      expect(first.operator.isLeader()).toBe(true);
      const lease = JSON.parse(
        (await plane().kubectl(['get', 'lease', 'peering-operator', '-n', namespace, '-o', 'json'])).stdout,
      );
      expect(lease.spec.holderIdentity).toBe('replica-1');
      // The standby serves the API but does not reconcile; whenReconciling() resolves only once it leads.
      await first.operator.kill();
      const died = Date.now();
      const standby = await second;
      if (standby instanceof Error) throw standby;
      const tookOverAfter = Date.now() - died;
      expect(standby.operator.isLeader()).toBe(true);
      expect(tookOverAfter).toBeLessThanOrEqual(15_000);
      const after = JSON.parse(
        (await plane().kubectl(['get', 'lease', 'peering-operator', '-n', namespace, '-o', 'json'])).stdout,
      );
      expect(after.spec).toMatchObject({ holderIdentity: 'replica-2', leaseTransitions: 1 });
      await standby.stop();
      // A graceful stop releases the Lease at once.
      const released = JSON.parse(
        (await plane().kubectl(['get', 'lease', 'peering-operator', '-n', namespace, '-o', 'json'])).stdout,
      );
      expect(released.spec.holderIdentity ?? '').toBe('');
    } finally {
      await first.operator.stop();
      const standby = await second;
      if (!(standby instanceof Error)) await standby.stop();
    }
  }, 60_000);
});
