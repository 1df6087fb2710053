import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import type { CrashPoints } from '../../src/operator/reconcilers/request-reconciler.js';
import { postsAnswered } from './support/api-metrics.js';
import { BgpFabric } from './support/bgp-fabric.js';
import { CRDS_DIR, eventually, kubectlApply } from './support/cluster.js';
import { createPeerTokenSecret, startClusterNetwork } from './support/cluster-network.js';
import type { Network } from './support/network.js';
import { outboundRequest } from './fixtures/manifests.js';

const A = 64500;
const B = 64501;

/** One session per crash point: the fixture gives A and B three address pairs. */
const CASES: { point: keyof CrashPoints; session: { location: string; localIp: string; peerIp: string } }[] =
  [
    { point: 'afterIntent', session: { location: 'pdb:ix:1', localIp: '192.0.2.1', peerIp: '192.0.2.2' } },
    {
      point: 'afterPost',
      session: { location: 'pdb:ix:1', localIp: '2001:db8:1::1', peerIp: '2001:db8:1::2' },
    },
    {
      point: 'afterRecord',
      session: { location: 'pdb:ix:2', localIp: '198.51.100.1', peerIp: '198.51.100.2' },
    },
  ];

interface Json {
  items: { metadata: { name: string }; spec: Record<string, unknown>; status?: Record<string, unknown> }[];
}

describeWithControlPlane('crash safety of outbound requests (operator killed at each step)', (plane) => {
  const fabric = new BgpFabric();
  const routerA = fabric.driverFor(A);
  let nsA: string;
  let nsB: string;
  let netB: Network;

  const list = async (namespace: string, kind: string): Promise<Json> =>
    JSON.parse((await plane().kubectl(['get', kind, '-n', namespace, '-o', 'json'])).stdout) as Json;

  beforeAll(async () => {
    await plane().installCRDs(CRDS_DIR);
    nsA = await plane().newNamespace('crash-a');
    nsB = await plane().newNamespace('crash-b');
    netB = await startClusterNetwork(plane(), {
      asn: B,
      callers: [A],
      namespace: nsB,
      router: fabric.driverFor(B),
    });
    await createPeerTokenSecret(plane(), nsA, 'peer-as64501', A);
  });
  afterAll(async () => {
    await netB?.stop();
  });

  it.each(CASES.map((c) => [c.point, c] as const))(
    'killed %s, restarted: one POST, one session on each side, nothing lost',
    async (point, { session }) => {
      const origin = netB.operator.api?.origin as string;
      const postsBefore = await postsAnswered(origin);
      const name = `crash-${point.toLowerCase()}`;
      let crashed: () => void = () => undefined;
      const crash = new Promise<void>((resolve) => (crashed = resolve));
      // The crash point never returns: nothing after it runs, as after a SIGKILL.
      const first = await startClusterNetwork(plane(), {
        asn: A,
        callers: [B],
        namespace: nsA,
        router: routerA,
        identity: `${name}-first`,
        extra: {
          crashPoints: {
            [point]: () => {
              crashed();
              return new Promise<void>(() => undefined);
            },
          },
        },
      });
      await kubectlApply(plane(), [
        outboundRequest({
          name,
          namespace: nsA,
          localAsn: A,
          peerAsn: B,
          peerApiUrl: netB.apiUrl,
          sessions: [session],
        }),
      ]);
      await crash;
      await first.operator.kill();
      const posted = (await postsAnswered(origin)) - postsBefore;
      expect(posted).toBe(point === 'afterIntent' ? 0 : 1);
      const afterCrash = (await list(nsA, 'peeringrequests')).items.find((r) => r.metadata.name === name);
      if (point === 'afterRecord') expect(afterCrash?.status?.['intent']).toBeUndefined();
      else expect(afterCrash?.status?.['intent']).toMatchObject({ sessions: [session] });

      const second = await startClusterNetwork(plane(), {
        asn: A,
        callers: [B],
        namespace: nsA,
        router: routerA,
        identity: `${name}-second`,
      });
      try {
        const request = await eventually(
          async () => {
            const r = (await list(nsA, 'peeringrequests')).items.find((i) => i.metadata.name === name);
            const counts = r?.status?.['sessionCounts'] as { established?: number } | undefined;
            return counts?.established === 1 && r;
          },
          30_000,
          `${name} established`,
        );
        expect(request.status?.['intent']).toBeUndefined();
        expect(request.status?.['rejected']).toEqual([]);
        expect((await postsAnswered(origin)) - postsBefore).toBe(1);
        const ours = (await list(nsA, 'peeringsessions')).items.filter(
          (s) => s.spec['localIp'] === session.localIp,
        );
        const theirs = (await list(nsB, 'peeringsessions')).items.filter(
          (s) => s.spec['peerIp'] === session.localIp,
        );
        expect(ours).toHaveLength(1);
        expect(theirs).toHaveLength(1);
        expect(ours[0]?.spec['sessionId']).toBe(theirs[0]?.spec['sessionId']);
        // B recorded one request for this intent, not two.
        const inbound = (await list(nsB, 'peeringrequests')).items.filter((r) =>
          (r.spec['sessions'] as { localIp: string }[] | undefined)?.some(
            (s) => s.localIp === session.peerIp,
          ),
        );
        expect(inbound).toHaveLength(1);
      } finally {
        await second.stop();
      }
    },
  );
});
