import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import { ClientPeerApiConnector } from '../../src/operator/peer/peer-api.js';
import { OperatorMetrics } from '../../src/operator/runtime/metrics.js';
import { postsAnswered } from './support/api-metrics.js';
import { BgpFabric } from './support/bgp-fabric.js';
import { CRDS_DIR, eventually, kubectlApply } from './support/cluster.js';
import { createPeerTokenSecret, startClusterNetwork } from './support/cluster-network.js';
import { FaultProxy, type FaultMode } from './support/fault-proxy.js';
import type { Network } from './support/network.js';
import { outboundRequest } from './fixtures/manifests.js';

const A = 64500;
const B = 64501;

interface Conditioned {
  status?: {
    conditions?: { type: string; status: string; reason: string; message: string }[];
    phase?: string;
  };
}

describeWithControlPlane(
  'remote faults: backoff, Synced=False with a reason, no hot loop, recovery',
  (plane) => {
    const fabric = new BgpFabric();
    let nsA: string;
    let nsB: string;
    let netA: Network;
    let netB: Network;
    let proxy: FaultProxy;
    const metrics = new OperatorMetrics();

    const getJson = async <T>(args: string[]): Promise<T> =>
      JSON.parse((await plane().kubectl([...args, '-o', 'json'])).stdout) as T;
    const synced = (object: Conditioned) => object.status?.conditions?.find((c) => c.type === 'Synced');
    const peerCalls = async () => (await metrics.peerCalls.get()).values.reduce((sum, v) => sum + v.value, 0);

    beforeAll(async () => {
      await plane().installCRDs(CRDS_DIR);
      nsA = await plane().newNamespace('faults-a');
      nsB = await plane().newNamespace('faults-b');
      netB = await startClusterNetwork(plane(), {
        asn: B,
        callers: [A],
        namespace: nsB,
        router: fabric.driverFor(B),
      });
      proxy = new FaultProxy(new URL(netB.apiUrl));
      await proxy.start();
      netA = await startClusterNetwork(plane(), {
        asn: A,
        callers: [B],
        namespace: nsA,
        router: fabric.driverFor(A),
        extra: { metrics, peers: new ClientPeerApiConnector({ metrics, timeoutMs: 1_000 }) },
      });
      await createPeerTokenSecret(plane(), nsA, 'peer-as64501', A);
    });
    afterAll(async () => {
      await netA?.stop();
      await proxy?.stop();
      await netB?.stop();
    });

    /** Holds a fault for `ms` and returns how often A called the peer meanwhile. */
    async function hold(mode: FaultMode, ms: number): Promise<number> {
      await proxy.set(mode);
      const before = await peerCalls();
      await new Promise((r) => setTimeout(r, ms));
      return (await peerCalls()) - before;
    }

    it('requests through every fault without a hot loop and without a second POST, then converges', async () => {
      await proxy.set('down');
      await kubectlApply(plane(), [
        outboundRequest({ name: 'as64501', namespace: nsA, localAsn: A, peerAsn: B, peerApiUrl: proxy.url }),
      ]);
      const reasonIs = async (reason: string) =>
        eventually(
          async () => {
            const request = await getJson<Conditioned>(['get', 'peeringrequest', 'as64501', '-n', nsA]);
            const condition = synced(request);
            return condition?.status === 'False' && condition.reason === reason && condition;
          },
          15_000,
          `Synced=False ${reason}`,
        );

      const calls: Record<string, number> = {};
      calls['down'] = await hold('down', 3_000);
      expect((await reasonIs('PeerUnreachable')).message).toMatch(/ECONNREFUSED|connect|reach/i);
      // Nothing answered yet: the request has Failed (Argo CD: Degraded), for this generation, and says why.
      const unreachable = await getJson<
        Conditioned & {
          metadata: { generation: number };
          status?: { phase?: string; observedGeneration?: number };
        }
      >(['get', 'peeringrequest', 'as64501', '-n', nsA]);
      expect(unreachable.status?.phase).toBe('Failed');
      expect(unreachable.status?.observedGeneration).toBe(unreachable.metadata.generation);
      expect(unreachable.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
        status: 'False',
        reason: 'PeerUnreachable',
      });
      const warnings = await getJson<{ items: { type: string; reason: string }[] }>([
        'get',
        'events',
        '-n',
        nsA,
        '--field-selector',
        'involvedObject.name=as64501',
      ]);
      expect(warnings.items).toContainEqual(
        expect.objectContaining({ type: 'Warning', reason: 'PeerUnreachable' }),
      );
      calls['500'] = await hold('500', 3_000);
      await reasonIs('InternalError');
      proxy.retryAfterSeconds = 2;
      calls['429'] = await hold('429', 3_000);
      await reasonIs('RateLimited');
      calls['malformed'] = await hold('malformed', 3_000);
      await reasonIs('RemoteProtocolError');
      // Slow: the POST reaches B after A gave up waiting; A must find it later instead of posting again.
      const postsBefore = await postsAnswered(netB.operator.api?.origin as string);
      calls['slow'] = await hold('slow', 4_000);
      await reasonIs('Timeout');

      // Backoff, not a hot loop: a handful of calls per fault window (measured: 4 while down, then 1 per window
      // once the backoff reached its ceiling; a loop would make hundreds).
      for (const [mode, count] of Object.entries(calls)) {
        expect({ mode, tooMany: count > 6 }).toEqual({ mode, tooMany: false });
      }
      expect(Object.values(calls).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5);

      await proxy.set('pass');
      const sessions = await eventually(
        async () => {
          const list = await getJson<{ items: { status?: { state?: string } }[] }>([
            'get',
            'peeringsessions',
            '-n',
            nsB,
          ]);
          return list.items.length === 1 && list.items[0]?.status?.state === 'established' && list;
        },
        30_000,
        'established at B',
      );
      expect(sessions.items).toHaveLength(1);
      const request = await eventually(
        async () => {
          const r = await getJson<Conditioned & { status?: { sessionCounts?: { established: number } } }>([
            'get',
            'peeringrequest',
            'as64501',
            '-n',
            nsA,
          ]);
          return synced(r)?.status === 'True' && r.status?.sessionCounts?.established === 1 && r;
        },
        30_000,
        'A synced and established',
      );
      expect(request.status?.phase).toBe('Established');
      // Exactly one POST ever reached B: the slow one, found again by its request id.
      expect((await postsAnswered(netB.operator.api?.origin as string)) - postsBefore).toBe(1);
    });

    it('marks an established session Synced=False while the peer fails, polls with backoff, and recovers', async () => {
      const name = (
        await getJson<{ items: { metadata: { name: string } }[] }>(['get', 'peeringsessions', '-n', nsA])
      ).items[0]?.metadata.name as string;
      const from = proxy.seen.length;
      await proxy.set('500');
      const failing = await eventually(
        async () => {
          const s = await getJson<Conditioned>(['get', 'peeringsession', name, '-n', nsA]);
          return synced(s)?.status === 'False' && s;
        },
        15_000,
        'session Synced=False',
      );
      expect(synced(failing)?.reason).toBe('InternalError');
      // Still established on the router: a peer's API failing is not BGP failing.
      expect(failing.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      await new Promise((r) => setTimeout(r, 3_000));
      const polls = proxy.since(from).filter((r) => r.path.includes('/sessions/')).length;
      expect(polls).toBeGreaterThanOrEqual(1);
      expect(polls).toBeLessThanOrEqual(6);
      await proxy.set('pass');
      await eventually(
        async () => {
          const s = await getJson<Conditioned>(['get', 'peeringsession', name, '-n', nsA]);
          return synced(s)?.status === 'True';
        },
        20_000,
        'session Synced=True again',
      );
    });
  },
);
