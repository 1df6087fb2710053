import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import { CliProcess, requireBuild } from '../e2e/support/processes.js';
import { RecordingRouterDriver } from '../../src/router/recording.js';
import { CRDS_DIR, eventually } from './support/cluster.js';
import { startClusterNetwork } from './support/cluster-network.js';
import { PEERINGDB_DIR } from './support/network.js';

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

  it('a SIGTERM to the leading process exits 0, clears the Lease holder, and the standby leads at once', async () => {
    requireBuild();
    await plane().installCRDs(CRDS_DIR);
    const namespace = await plane().newNamespace('sigterm');
    const work = mkdtempSync(join(tmpdir(), 'peering-sigterm-'));
    const kubeconfig = join(work, 'kubeconfig');
    writeFileSync(kubeconfig, plane().kubeConfig.exportConfig(), { mode: 0o600 });
    const config = join(work, 'config.yaml');
    writeFileSync(
      config,
      stringify({ asns: [64500], apiUrl: 'http://127.0.0.1/v0.1', peeringdb: { dataDir: PEERINGDB_DIR } }),
    );
    // As the chart runs it: in-cluster mode (here a kubeconfig), --leader-elect, default timings.
    const replica = (identity: string) =>
      new CliProcess(
        [
          'run',
          '--config',
          config,
          '--kubeconfig',
          kubeconfig,
          '--watch-namespace',
          namespace,
          '--inbound-namespace',
          namespace,
          '--lease-namespace',
          namespace,
          '--leader-elect',
          '--identity',
          identity,
          '--listen',
          '127.0.0.1:0',
          '--health-listen',
          '127.0.0.1:0',
          '--router',
          'none',
        ],
        join(work, `${identity}.log`),
      ).start();
    const holder = async (): Promise<string> => {
      const lease = await plane()
        .kubectl(['get', 'lease', 'peering-operator', '-n', namespace, '-o', 'json'])
        .catch(() => undefined);
      return lease ? ((JSON.parse(lease.stdout).spec?.holderIdentity as string | undefined) ?? '') : '';
    };
    const first = replica('replica-1');
    const second = replica('replica-2');
    try {
      const leader = await eventually(async () => (await holder()) || undefined, 30_000, 'a leader');
      const [leading, standby] = leader === 'replica-1' ? [first, second] : [second, first];
      const standbyName = leader === 'replica-1' ? 'replica-2' : 'replica-1';
      const stopped = performance.now();
      await leading.kill('SIGTERM');
      expect(await leading.exited()).toEqual({ code: 0, signal: null });
      expect(leading.log()).not.toMatch(/lost leadership/);
      // Released: the holder is cleared (or already the standby's, which takes it at its next retry, ≤ 2 s).
      expect(['', standbyName]).toContain(await holder());
      await eventually(async () => (await holder()) === standbyName, 10_000, 'the standby to lead');
      const tookOver = (performance.now() - stopped) / 1000;
      console.log(`[leader] SIGTERM → standby leads after ${tookOver.toFixed(1)} s (lease 10 s, retry 2 s)`);
      // Well inside the 10 s lease it would otherwise have waited out.
      expect(tookOver).toBeLessThan(6);
      expect(standby.running).toBe(true);
    } finally {
      await first.kill('SIGTERM');
      await second.kill('SIGTERM');
      rmSync(work, { recursive: true, force: true });
    }
  }, 90_000);
});
