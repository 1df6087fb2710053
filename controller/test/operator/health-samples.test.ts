import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import { BgpFabric } from './support/bgp-fabric.js';
import { CRDS_DIR, eventually, getObject, kubectlApply, listObjects } from './support/cluster.js';
import { startClusterPair } from './support/cluster-network.js';
import {
  checkSamples,
  normalizeSample,
  type Health,
  type RecordedSample,
  type SampleKind,
} from './support/health-samples.js';
import { tokenOf, type Network } from './support/network.js';
import { goodSession, outboundRequest } from './fixtures/manifests.js';

const A = 64500;
const B = 64501;
const HOLD = 'health-samples.test/hold';

interface Live {
  kind: string;
  metadata: {
    name: string;
    generation?: number;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
  };
  spec: { localIp?: string; peerIp?: string };
  status?: {
    phase?: string;
    state?: string;
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

/** The same request with `spec.suspend: true` (nothing is sent to the peer). */
const withSuspend = <T extends { spec: object }>(request: T): T => ({
  ...request,
  spec: { ...request.spec, suspend: true },
});

const reasonOf = (o: Live | undefined, type = 'Ready') =>
  o?.status?.conditions?.find((c) => c.type === type)?.reason;

/**
 * The samples of the Argo CD health checks, recorded from what two operators really write on a real API server
 * (AS64500 asks, AS64501 decides by hand), in each situation a GitOps user meets. Each sample carries the health
 * a person decided it must have; the run checks the script gives it on the live object, and that the committed
 * sample still has the live object's shape. `RECORD_HEALTH_SAMPLES=1` rewrites the samples.
 */
describeWithControlPlane('Argo CD health samples recorded from the operator', (plane) => {
  const fabric = new BgpFabric();
  const samples: RecordedSample[] = [];
  let nsA: string;
  let nsB: string;
  let nsC: string;
  let netA: Network;
  let netB: Network;

  const get = (kind: string, namespace: string, name: string) =>
    getObject<Live>(plane(), kind, namespace, name);
  const list = (kind: string, namespace: string, selector?: string) =>
    listObjects<Live>(plane(), kind, namespace, selector);
  const until = <T>(what: string, check: () => Promise<T | undefined | false>, ms = 30_000) =>
    eventually(check, ms, what);
  const record = (kind: SampleKind, name: string, health: Health, object: Live) => {
    samples.push({ kind, name, health, object: normalizeSample(object, [nsA, nsB, nsC]) });
  };
  const inboundOnB = async () =>
    (await list('peeringrequests', nsB)).filter((r) => r.metadata.name.startsWith('in-'));

  beforeAll(async () => {
    await plane().installCRDs(CRDS_DIR);
    nsC = await plane().newNamespace('samples-c');
    ({ nsA, nsB, netA, netB } = await startClusterPair(plane(), fabric, {
      prefix: 'samples',
      b: { approval: 'manual', timeWindow: '20s' },
    }));
  });
  afterAll(async () => {
    await netA?.stop();
    await netB?.stop();
  });

  it('a request and a session no operator has seen yet', async () => {
    // nsC has no operator: what `kubectl apply` leaves, before anyone reconciles.
    await kubectlApply(plane(), [
      outboundRequest({
        name: 'as64501',
        namespace: nsC,
        localAsn: A,
        peerAsn: B,
        peerApiUrl: 'https://x/v0.1',
      }),
      goodSession(nsC, 'as64501-ix1'),
    ]);
    record(
      'PeeringRequest',
      'no-status',
      'Progressing',
      (await get('peeringrequest', nsC, 'as64501')) as Live,
    );
    record(
      'PeeringSession',
      'no-status',
      'Progressing',
      (await get('peeringsession', nsC, 'as64501-ix1')) as Live,
    );
  });

  it('a missing Secret and an unreachable peer: Failed, Ready False with the reason, a Warning event', async () => {
    await kubectlApply(plane(), [
      outboundRequest({
        name: 'as64502',
        namespace: nsA,
        localAsn: A,
        peerAsn: 64502,
        peerApiUrl: netB.apiUrl,
        tokenSecret: 'peering-as64502',
      }),
      // Port 9 (discard) on loopback: nothing listens, the connection is refused.
      outboundRequest({
        name: 'as64509',
        namespace: nsA,
        localAsn: A,
        peerAsn: 64509,
        peerApiUrl: 'http://127.0.0.1:9/v0.1',
      }),
    ]);
    const missing = await until('SecretNotFound', async () => {
      const r = await get('peeringrequest', nsA, 'as64502');
      return reasonOf(r) === 'SecretNotFound' && r;
    });
    expect(missing.status).toMatchObject({
      phase: 'Failed',
      observedGeneration: missing.metadata.generation,
    });
    expect(missing.status?.conditions?.find((c) => c.type === 'Ready')?.message).toMatch(
      /Secret samples-a-\w+\/peering-as64502 does not exist/,
    );
    record('PeeringRequest', 'failed-secret-not-found', 'Degraded', missing);
    const unreachable = await until('PeerUnreachable', async () => {
      const r = await get('peeringrequest', nsA, 'as64509');
      return reasonOf(r) === 'PeerUnreachable' && r;
    });
    expect(unreachable.status?.phase).toBe('Failed');
    record('PeeringRequest', 'failed-peer-unreachable', 'Degraded', unreachable);
    // `kubectl wait` ends with the reason instead of timing out blind.
    const waited = await plane()
      .kubectl([
        'wait',
        '-n',
        nsA,
        'peeringrequest/as64502',
        '--for=jsonpath={.status.phase}=Failed',
        '--timeout=10s',
      ])
      .then((r) => r.stdout);
    expect(waited).toMatch(/condition met/);
    const events = JSON.parse((await plane().kubectl(['get', 'events', '-n', nsA, '-o', 'json'])).stdout) as {
      items: { type: string; reason: string; involvedObject: { name: string } }[];
    };
    const of = (name: string) => events.items.filter((e) => e.involvedObject.name === name);
    expect(of('as64502')).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason: 'SecretNotFound' }),
    );
    expect(of('as64509')).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason: 'PeerUnreachable' }),
    );
  });

  it('a partial rejection, sessions waiting for approval at the peer, then approved and established', async () => {
    await kubectlApply(plane(), [
      outboundRequest({
        name: 'as64501',
        namespace: nsA,
        localAsn: A,
        peerAsn: B,
        peerApiUrl: netB.apiUrl,
        sessions: [
          { location: 'pdb:ix:1', localIp: '192.0.2.1', peerIp: '192.0.2.2' },
          // Not AS64501's address at this exchange: refused.
          { location: 'pdb:ix:1', localIp: '192.0.2.1', peerIp: '192.0.2.99' },
        ],
      }),
      outboundRequest({
        name: 'as64501-v6',
        namespace: nsA,
        localAsn: A,
        peerAsn: B,
        peerApiUrl: netB.apiUrl,
        sessions: [{ location: 'pdb:ix:1', localIp: '2001:db8:1::1', peerIp: '2001:db8:1::2' }],
      }),
      withSuspend(
        outboundRequest({
          name: 'as64501-later',
          namespace: nsA,
          localAsn: A,
          peerAsn: B,
          peerApiUrl: netB.apiUrl,
        }),
      ),
    ]);
    const suspended = await until('suspended', async () => {
      const r = await get('peeringrequest', nsA, 'as64501-later');
      return reasonOf(r, 'Synced') === 'Suspended' && r;
    });
    expect(suspended.status?.phase).toBe('Pending');
    record('PeeringRequest', 'pending', 'Progressing', suspended);
    const requested = await until('v6 requested', async () => {
      const r = await get('peeringrequest', nsA, 'as64501-v6');
      return r?.status?.phase === 'Requested' && reasonOf(r, 'Accepted') === 'PendingApproval' && r;
    });
    record('PeeringRequest', 'requested', 'Progressing', requested);
    const waiting = await until('A waiting for B to approve', async () => {
      const r = await get('peeringrequest', nsA, 'as64501');
      return r?.status?.phase === 'PartiallyRejected' && reasonOf(r, 'Accepted') === 'PendingApproval' && r;
    });
    // The peer's words in ours: its local_ip is our peerIp.
    expect(JSON.stringify(waiting.status)).toMatch(/"reason":"PeerIpNotTheirs"/);
    expect(JSON.stringify(waiting.status)).not.toMatch(/undefined/);
    record('PeeringRequest', 'partially-rejected-pending', 'Degraded', waiting);
    const [pendingOut] = await list('peeringsessions', nsA, 'peering.autopeer.dev/request=as64501');
    record('PeeringSession', 'pending', 'Progressing', pendingOut as Live);

    const inbound = (await inboundOnB()).find((r) => JSON.stringify(r.spec).includes('192.0.2.99'));
    expect(inbound?.status?.phase).toBe('PendingApproval');
    record('PeeringRequest', 'pending-approval', 'Progressing', inbound as Live);
    const pendingIn = (await list('peeringsessions', nsB)).find((x) => x.spec.peerIp === '192.0.2.1');
    expect(pendingIn?.status?.state).toBe('pending');
    record('PeeringSession', 'pending-inbound', 'Progressing', pendingIn as Live);

    for (const r of await inboundOnB()) {
      await plane().kubectl([
        'patch',
        'peeringrequest',
        r.metadata.name,
        '-n',
        nsB,
        '--type=merge',
        '-p',
        '{"spec":{"approved":true}}',
      ]);
    }
    const healthy = await until('v6 established', async () => {
      const r = await get('peeringrequest', nsA, 'as64501-v6');
      return r?.status?.phase === 'Established' && reasonOf(r) === 'Established' && r;
    });
    record('PeeringRequest', 'established', 'Healthy', healthy);
    const established = await until('established on both sides', async () => {
      const r = await get('peeringrequest', nsA, 'as64501');
      return r?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && r;
    });
    // Ready, and still Degraded: git asked for two sessions and got one.
    record('PeeringRequest', 'partially-rejected', 'Degraded', established);
    // Both words agree: our router's (Ready) and the peer's (state, polled).
    const up = await until('A session established by both accounts', async () => {
      const [s] = await list('peeringsessions', nsA, 'peering.autopeer.dev/request=as64501');
      return s?.status?.state === 'established' && reasonOf(s) === 'Established' && s;
    });
    record('PeeringSession', 'established', 'Healthy', up);
    const upIn = await until('B established', async () => {
      const s = (await list('peeringsessions', nsB)).find((x) => x.spec.peerIp === '192.0.2.1');
      return reasonOf(s) === 'Established' && s;
    });
    record('PeeringSession', 'established-inbound', 'Healthy', upIn);
    const inboundUp = await until('B request established', async () => {
      const r = (await inboundOnB()).find((x) => JSON.stringify(x.spec).includes('192.0.2.99'));
      return reasonOf(r) === 'Established' && r;
    });
    record('PeeringRequest', 'partially-rejected-inbound', 'Degraded', inboundUp);

    // The same object one spec edit later, before its operator has seen it: derived, not invented.
    for (const [kind, object] of [
      ['PeeringRequest', established],
      ['PeeringSession', up],
    ] as const) {
      const stale = structuredClone(object);
      stale.metadata.generation = (stale.metadata.generation ?? 1) + 1;
      record(kind, 'stale-generation', 'Progressing', stale);
    }
  });

  it('BGP lost on the routers: the sessions and the request are Degraded, and Healthy again once it is back', async () => {
    const [session] = await list('peeringsessions', nsA, 'peering.autopeer.dev/request=as64501');
    const keyOf = (asn: number, peerIp: string) =>
      [...(fabric.routers.get(asn)?.configured().values() ?? [])].find((d) => d.peerIp === peerIp)
        ?.key as string;
    const key = keyOf(A, '192.0.2.2');
    const keyB = keyOf(B, '192.0.2.1');
    fabric.routers.get(A)?.setBgpState(key, 'active', { lastError: 'Hold timer expired' });
    fabric.routers.get(B)?.setBgpState(keyB, 'active', { lastError: 'Hold timer expired' });
    // Settled: our router says BGP went down, and so does the peer (its router lost it too).
    const down = await until('A session BgpDown, down at the peer too', async () => {
      const s = await get('peeringsession', nsA, session?.metadata.name as string);
      return reasonOf(s) === 'BgpDown' && s?.status?.state === 'down' && s;
    });
    record('PeeringSession', 'bgp-down', 'Degraded', down);
    const request = await until('A request BgpDown', async () => {
      const r = await get('peeringrequest', nsA, 'as64501');
      return reasonOf(r) === 'BgpDown' && r;
    });
    record('PeeringRequest', 'bgp-down', 'Degraded', request);
    const downIn = await until('B session down', async () => {
      const s = (await list('peeringsessions', nsB)).find((x) => x.spec.peerIp === '192.0.2.1');
      return s?.status?.state === 'down' && s;
    });
    record('PeeringSession', 'down', 'Degraded', downIn);
    fabric.routers.get(A)?.setBgpState(key, 'established');
    fabric.routers.get(B)?.setBgpState(keyB, 'established');
    await until('A request Ready again', async () => {
      const r = await get('peeringrequest', nsA, 'as64501');
      return r?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    });
  });

  it('a full rejection, and a session that never came up within the time window', async () => {
    await kubectlApply(plane(), [
      outboundRequest({
        name: 'as64501-refused',
        namespace: nsA,
        localAsn: A,
        peerAsn: B,
        peerApiUrl: netB.apiUrl,
        sessions: [{ location: 'pdb:ix:1', localIp: '192.0.2.1', peerIp: '192.0.2.98' }],
      }),
    ]);
    const rejected = await until('rejected', async () => {
      const r = await get('peeringrequest', nsA, 'as64501-refused');
      return r?.status?.phase === 'Rejected' && reasonOf(r) === 'PeerRejected' && r;
    });
    record('PeeringRequest', 'rejected', 'Degraded', rejected);
    const events = JSON.parse(
      (
        await plane().kubectl([
          'get',
          'events',
          '-n',
          nsA,
          '--field-selector',
          'involvedObject.name=as64501-refused',
          '-o',
          'json',
        ])
      ).stdout,
    ) as { items: { type: string; reason: string }[] };
    expect(events.items).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'Rejected' }));
    expect(events.items.map((e) => e.reason)).not.toContain('Requested');

    // A session at pdb:ix:2 that AS64500's operator knows nothing of (asked by hand): B approves and configures
    // it, BGP never comes up, and after B's 20 s window it is unestablished.
    const answer = await fetch(`${netB.apiUrl}/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenOf(A)}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        sessions: [
          {
            local_asn: B,
            peer_asn: A,
            local_ip: '198.51.100.2',
            peer_ip: '198.51.100.1',
            peer_type: 'public',
            location: { id: 'pdb:ix:2', type: 'public' },
          },
        ],
      }),
    });
    expect([200, 201]).toContain(answer.status);
    const byHand = await until('the hand-made request on B', async () =>
      (await inboundOnB()).find((r) => JSON.stringify(r.spec).includes('198.51.100.1')),
    );
    await plane().kubectl([
      'patch',
      'peeringrequest',
      byHand.metadata.name,
      '-n',
      nsB,
      '--type=merge',
      '-p',
      '{"spec":{"approved":true}}',
    ]);
    const configured = await until('configured, BGP not up', async () => {
      const s = (await list('peeringsessions', nsB)).find((x) => x.spec.peerIp === '198.51.100.1');
      return s?.status?.state === 'configured' && reasonOf(s) !== undefined && s;
    });
    record('PeeringSession', 'configured', 'Progressing', configured);
    const approvedRequest = await until('Approved', async () => {
      const r = await get('peeringrequest', nsB, byHand.metadata.name);
      // The phase turns Approved before the request has seen its session configured: the sample is the settled
      // state, Ready waiting on BGP, not the moment between.
      return r?.status?.phase === 'Approved' && reasonOf(r) === 'BgpIdle' && r;
    });
    record('PeeringRequest', 'approved', 'Progressing', approvedRequest);
    const expired = await until(
      'unestablished',
      async () => {
        const s = (await list('peeringsessions', nsB)).find((x) => x.spec.peerIp === '198.51.100.1');
        return s?.status?.state === 'unestablished' && s;
      },
      40_000,
    );
    record('PeeringSession', 'unestablished', 'Degraded', expired);
    const expiredRequest = await until('Expired', async () => {
      const r = await get('peeringrequest', nsB, byHand.metadata.name);
      return r?.status?.phase === 'Expired' && r;
    });
    record('PeeringRequest', 'expired', 'Degraded', expiredRequest);
  }, 90_000);

  it('a request being deleted, and the peer’s inbound request once it has nothing left', async () => {
    const [session] = await list('peeringsessions', nsA, 'peering.autopeer.dev/request=as64501');
    const name = session?.metadata.name as string;
    // A finalizer of the test's keeps the session after the operator's own clean-up, so it can be looked at.
    await plane().kubectl([
      'patch',
      'peeringsession',
      name,
      '-n',
      nsA,
      '--type=json',
      '-p',
      `[{"op":"add","path":"/metadata/finalizers/-","value":"${HOLD}"}]`,
    ]);
    await plane().kubectl(['delete', 'peeringrequest', 'as64501', '-n', nsA, '--wait=false']);
    const deleting = await until('session Deleting', async () => {
      const s = await get('peeringsession', nsA, name);
      return reasonOf(s) === 'Deleting' && s;
    });
    expect(deleting.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    record('PeeringSession', 'deleting', 'Progressing', deleting);
    const request = await until('request Deleting', async () => {
      const r = await get('peeringrequest', nsA, 'as64501');
      return r?.status?.phase === 'Deleting' && r;
    });
    record('PeeringRequest', 'deleting', 'Progressing', request);
    const dePeered = await until('B request de-peered', async () =>
      (await inboundOnB()).find((r) => r.status?.phase === 'DePeered'),
    );
    expect(reasonOf(dePeered)).toBe('DePeered');
    record('PeeringRequest', 'de-peered', 'Progressing', dePeered);
    // Released once the operator has let go of it (only the test's finalizer left).
    const held = await until('only the test finalizer left', async () => {
      const s = await get('peeringsession', nsA, name);
      const finalizers = (s?.metadata as { finalizers?: string[] } | undefined)?.finalizers ?? [];
      return finalizers.length === 1 && finalizers[0] === HOLD && s;
    });
    expect(held.metadata.deletionTimestamp).toBeDefined();
    await plane().kubectl([
      'patch',
      'peeringsession',
      name,
      '-n',
      nsA,
      '--type=json',
      '-p',
      `[{"op":"remove","path":"/metadata/finalizers/0"}]`,
    ]);
    await until('request gone', async () => (await get('peeringrequest', nsA, 'as64501')) === undefined);
  });

  it(
    'gives every recorded object the health decided for it, and the committed samples are what was recorded',
    async () => {
      // Last: on everything recorded above.
      expect(samples.length).toBeGreaterThanOrEqual(20);
      const problems = await checkSamples(samples);
      expect(problems).toEqual([]);
    },
    5 * 60_000,
  );
});
