import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import { BgpFabric } from './support/bgp-fabric.js';
import { CRDS_DIR, eventually, kubectlApply } from './support/cluster.js';
import { startClusterPair } from './support/cluster-network.js';
import type { Network } from './support/network.js';
import { SESSION_COLUMNS, outboundRequest } from './fixtures/manifests.js';

const A = 64500;
const B = 64501;

interface Listed<T> {
  items: T[];
}
interface SessionView {
  metadata: { name: string };
  spec: { sessionId: string; localIp: string; peerIp: string; direction: string };
  status?: {
    state?: string;
    bgp?: { state: string };
    conditions?: { type: string; status: string; reason: string }[];
  };
}

describeWithControlPlane('two networks, each with its operator, on a real API server', (plane) => {
  const fabric = new BgpFabric();
  let nsA: string;
  let nsB: string;
  let netA: Network;
  let netB: Network;

  const get = async <T>(namespace: string, kind: string): Promise<Listed<T>> =>
    JSON.parse((await plane().kubectl(['get', kind, '-n', namespace, '-o', 'json'])).stdout) as Listed<T>;

  beforeAll(async () => {
    await plane().installCRDs(CRDS_DIR);
    ({ nsA, nsB, netA, netB } = await startClusterPair(plane(), fabric, { prefix: 'net' }));
  });
  afterAll(async () => {
    await netA?.stop();
    await netB?.stop();
  });

  it("ends an outbound request on A with matching PeeringSessions on A and B, a partial rejection in A's status", async () => {
    await kubectlApply(plane(), [
      outboundRequest({
        name: 'as64501',
        namespace: nsA,
        localAsn: A,
        peerAsn: B,
        peerApiUrl: netB.apiUrl,
        sessions: [
          {
            location: 'pdb:ix:1',
            localIp: '192.0.2.1',
            peerIp: '192.0.2.2',
            localBgpRole: 4,
            peerBgpRole: 4,
          },
          { location: 'pdb:ix:1', localIp: '2001:db8:1::1', peerIp: '2001:db8:1::2' },
          // Not A's address at this exchange in PeeringDB: B refuses this one.
          { location: 'pdb:ix:1', localIp: '192.0.2.77', peerIp: '192.0.2.2' },
        ],
      }),
    ]);
    const established = (list: Listed<SessionView>) =>
      list.items.length === 2 && list.items.every((s) => s.status?.state === 'established') && list;
    const onA = await eventually(
      async () => established(await get<SessionView>(nsA, 'peeringsessions')),
      30_000,
      'A',
    );
    const onB = await eventually(
      async () => established(await get<SessionView>(nsB, 'peeringsessions')),
      30_000,
      'B',
    );
    const pairs = (list: Listed<SessionView>, mine: 'localIp' | 'peerIp') =>
      list.items.map((s) => `${s.spec.sessionId} ${s.spec[mine]}`).sort();
    // The same session ids on both sides, each side in its own reading (A's local is B's peer).
    expect(pairs(onA, 'localIp')).toEqual(pairs(onB, 'peerIp'));
    expect(onA.items.every((s) => s.spec.direction === 'Outbound')).toBe(true);
    expect(onB.items.every((s) => s.spec.direction === 'Inbound')).toBe(true);
    for (const session of [...onA.items, ...onB.items]) {
      expect(session.status?.bgp?.state).toBe('established');
    }
    await eventually(
      async () => {
        const list = await get<SessionView>(nsA, 'peeringsessions');
        return list.items.every((s) =>
          s.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
      },
      15_000,
      'Ready on A',
    );

    const request = await eventually(
      async () => {
        const r = JSON.parse(
          (await plane().kubectl(['get', 'peeringrequest', 'as64501', '-n', nsA, '-o', 'json'])).stdout,
        );
        return r.status?.phase === 'PartiallyRejected' && r.status?.sessionCounts?.established === 2 && r;
      },
      15_000,
      'request status',
    );
    expect(request.status.rejected).toEqual([
      expect.objectContaining({
        location: 'pdb:ix:1',
        localIp: '192.0.2.77',
        peerIp: '192.0.2.2',
        code: 'PEER_IP_NOT_REGISTERED',
        // B's words (its peer_ip, the caller's address) in ours: our localIp is not registered.
        field: 'sessions[2].localIp',
        reason: 'LocalIpNotRegistered',
      }),
    ]);
    expect(request.status.requestId).toEqual(expect.any(String));
    const inbound = await get<{ spec: { direction: string; peerAsn: number } }>(nsB, 'peeringrequests');
    expect(inbound.items.map((r) => [r.spec.direction, r.spec.peerAsn])).toEqual([['Inbound', A]]);
  });

  it('prints the session columns with real values in kubectl get, and session id and message with -o wide', async () => {
    const { stdout } = await plane().kubectl(['get', 'peeringsessions', '-n', nsA]);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['NAME', ...SESSION_COLUMNS]);
    expect(rows.map((r) => r.split(/\s+/).slice(1, 8)).sort()).toEqual([
      ['64501', 'pdb:ix:1', '192.0.2.1', '192.0.2.2', 'established', 'established', 'True'],
      ['64501', 'pdb:ix:1', '2001:db8:1::1', '2001:db8:1::2', 'established', 'established', 'True'],
    ]);
    const wide = (await plane().kubectl(['get', 'psess', '-n', nsA, '-o', 'wide'])).stdout;
    expect(wide.split('\n')[0]).toMatch(/READY\s+AGE\s+SESSION ID\s+ROUTER\s+MESSAGE/);
    expect(wide).toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\s+BGP is established/);
    const category = (await plane().kubectl(['get', 'peering', '-n', nsA])).stdout;
    expect(category).toContain('peeringrequest.peering.autopeer.dev/as64501');
  });

  it('waits for a person to approve private peering on B (spec.approved: true), then establishes it', async () => {
    await kubectlApply(plane(), [
      outboundRequest({
        name: 'as64501-private',
        namespace: nsA,
        localAsn: A,
        peerAsn: B,
        peerApiUrl: netB.apiUrl,
        sessions: [{ location: 'pdb:fac:1', localIp: '10.0.0.1', peerIp: '10.0.0.2' }],
      }),
    ]);
    const inboundName = await eventually(
      async () => {
        const list = await get<{
          metadata: { name: string };
          spec: { sessions?: { location: string }[] };
          status?: { phase?: string };
        }>(nsB, 'peeringrequests');
        const found = list.items.find((r) => r.spec.sessions?.[0]?.location === 'pdb:fac:1');
        return found?.status?.phase === 'PendingApproval' && found.metadata.name;
      },
      20_000,
      'pending on B',
    );
    const privateOnA = async () =>
      (await get<SessionView>(nsA, 'peeringsessions')).items.find((s) => s.spec.localIp === '10.0.0.1');
    const waiting = await eventually(
      async () => {
        const s = await privateOnA();
        return s?.status?.state === 'pending' && s;
      },
      20_000,
      'pending on A',
    );
    expect(waiting.status?.conditions?.find((c) => c.type === 'Accepted')).toMatchObject({
      status: 'Unknown',
      reason: 'PendingApproval',
    });
    expect(fabric.configured(B).some((s) => s.localIp === '10.0.0.2')).toBe(false);

    await plane().kubectl([
      'patch',
      'peeringrequest',
      inboundName,
      '-n',
      nsB,
      '--type=merge',
      '-p',
      '{"spec":{"approved":true}}',
    ]);
    await eventually(
      async () => (await privateOnA())?.status?.state === 'established',
      30_000,
      'established on A',
    );
  });

  it('de-peers both sides when the requests are deleted on A', async () => {
    await plane().kubectl(['delete', 'peeringrequests', '--all', '-n', nsA, '--wait=false']);
    await eventually(
      async () => (await get(nsA, 'peeringrequests')).items.length === 0,
      30_000,
      'A request gone',
    );
    expect((await get(nsA, 'peeringsessions')).items).toEqual([]);
    await eventually(
      async () => (await get(nsB, 'peeringsessions')).items.length === 0,
      30_000,
      'B sessions gone',
    );
    expect(fabric.configured(A)).toEqual([]);
    expect(fabric.configured(B)).toEqual([]);
    const events = (await plane().kubectl(['get', 'events', '-n', nsA, '-o', 'json'])).stdout;
    expect(events).toContain('DePeered');
  });
});
