import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import { BgpFabric } from './support/bgp-fabric.js';
import { CRDS_DIR, eventually, getObject, kubectlApply, listObjects } from './support/cluster.js';
import { startClusterPair } from './support/cluster-network.js';
import { tokenOf, type Network } from './support/network.js';
import { outboundRequest } from './fixtures/manifests.js';

const A = 64500;
const B = 64501;

interface Live {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { localIp?: string; peerIp?: string; sessions?: unknown[] };
  status?: {
    phase?: string;
    emptySince?: string;
    sessionCounts?: { accepted: number; pending?: number };
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

const ready = (o: Live | undefined) => o?.status?.conditions?.find((c) => c.type === 'Ready');

/** What a GitOps user meets after the first day: nothing left behind, and a status that says what is going on. */
describeWithControlPlane('day two on a real API server: no litter, conditions that say so', (plane) => {
  const fabric = new BgpFabric();
  let nsA: string;
  let nsB: string;
  let netA: Network;
  let netB: Network;

  const list = (kind: string, namespace: string) => listObjects<Live>(plane(), kind, namespace);
  const get = (kind: string, namespace: string, name: string) =>
    getObject<Live>(plane(), kind, namespace, name);
  const inboundOnB = async () =>
    (await list('peeringrequests', nsB)).filter((r) => r.metadata.name.startsWith('in-'));
  const post = (sessions: object[]) =>
    fetch(`${netB.apiUrl}/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenOf(A)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sessions }),
    });
  const ix2 = {
    local_asn: B,
    peer_asn: A,
    local_ip: '198.51.100.2',
    peer_ip: '198.51.100.1',
    peer_type: 'public',
    location: { id: 'pdb:ix:2', type: 'public' },
  };

  beforeAll(async () => {
    await plane().installCRDs(CRDS_DIR);
    ({ nsA, nsB, netA, netB } = await startClusterPair(plane(), fabric, {
      prefix: 'day2',
      b: { approval: 'manual', extra: { emptyRequestGraceMs: 4_000 } },
    }));
  });
  afterAll(async () => {
    await netA?.stop();
    await netB?.stop();
  });

  it('a POST for a session that exists already answers it and leaves no empty inbound request', async () => {
    const answer = await post([ix2]);
    expect(answer.status).toBeLessThan(300);
    const created = (await answer.json()) as { sessions: { session_id: string }[] };
    const first = await eventually(
      async () => (await inboundOnB()).length === 1 && inboundOnB(),
      10_000,
      'one',
    );
    const again = await post([ix2]);
    expect(again.status).toBeLessThan(300);
    const body = (await again.json()) as { sessions: { session_id: string }[] };
    expect(body.sessions.map((s) => s.session_id)).toEqual(created.sessions.map((s) => s.session_id));
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await inboundOnB()).map((r) => r.metadata.name)).toEqual(first.map((r) => r.metadata.name));
  });

  it('the inbound request of sessions the peer de-peered says so, then is removed after the grace period', async () => {
    const [request] = await inboundOnB();
    const [session] = await list('peeringsessions', nsB);
    const id = (await (await post([ix2])).json()) as { sessions: { session_id: string }[] };
    const removed = await fetch(`${netB.apiUrl}/sessions/${id.sessions[0]?.session_id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${tokenOf(A)}` },
    });
    expect(removed.status).toBeLessThan(300);
    await eventually(
      async () => (await get('peeringsession', nsB, session?.metadata.name as string)) === undefined,
      10_000,
      'the session gone',
    );
    const dePeered = await eventually(
      async () => {
        const r = await get('peeringrequest', nsB, request?.metadata.name as string);
        return r?.status?.phase === 'DePeered' && r;
      },
      10_000,
      'DePeered',
    );
    expect(ready(dePeered)).toMatchObject({ status: 'False', reason: 'DePeered' });
    expect(dePeered.status?.emptySince).toBeDefined();
    const started = Date.now();
    await eventually(
      async () => (await get('peeringrequest', nsB, request?.metadata.name as string)) === undefined,
      15_000,
      'the empty request removed',
    );
    // Not before the grace period (4 s from when it was left empty).
    expect(Date.now() - started).toBeGreaterThan(1_000);
    const events = JSON.parse((await plane().kubectl(['get', 'events', '-n', nsB, '-o', 'json'])).stdout) as {
      items: { type: string; reason: string; involvedObject: { name: string } }[];
    };
    const about = events.items.filter((e) => e.involvedObject.name === request?.metadata.name);
    expect(about.filter((e) => e.type === 'Warning')).toEqual([]);
    expect(about.map((e) => e.reason)).toContain('Removed');
  });

  it('ACCEPTED counts no session that waits for approval; PENDING does', async () => {
    await kubectlApply(plane(), [
      outboundRequest({ name: 'as64501', namespace: nsA, localAsn: A, peerAsn: B, peerApiUrl: netB.apiUrl }),
    ]);
    const waiting = await eventually(
      async () => {
        const r = await get('peeringrequest', nsA, 'as64501');
        return r?.status?.sessionCounts !== undefined && r;
      },
      10_000,
      'counts',
    );
    expect(waiting.status?.sessionCounts).toMatchObject({ accepted: 0, pending: 1 });
    expect(waiting.status?.conditions?.find((c) => c.type === 'Accepted')).toMatchObject({
      status: 'Unknown',
      reason: 'PendingApproval',
    });
    const table = (await plane().kubectl(['get', 'peeringrequest', 'as64501', '-n', nsA, '-o', 'wide']))
      .stdout;
    const [head, row] = table.trim().split('\n') as [string, string];
    const cell = (column: string) => row.slice(head.indexOf(column)).split(/\s+/)[0];
    expect(cell('ACCEPTED')).toBe('0');
    expect(cell('PENDING')).toBe('1');
  });

  it('a request asking for a session another request owns says so, instead of NotReconciled', async () => {
    await kubectlApply(plane(), [
      outboundRequest({
        name: 'as64501-again',
        namespace: nsA,
        localAsn: A,
        peerAsn: B,
        peerApiUrl: netB.apiUrl,
      }),
    ]);
    const duplicate = await eventually(
      async () => {
        const r = await get('peeringrequest', nsA, 'as64501-again');
        return ready(r)?.reason === 'DuplicateSession' && r;
      },
      15_000,
      'DuplicateSession',
    );
    expect(ready(duplicate)?.message).toMatch(/belongs to PeeringRequest as64501\b/);
  });

  it('an approval file applies with plain kubectl apply --server-side (no force), as Argo CD applies it', async () => {
    const answer = await post([{ ...ix2, local_ip: '198.51.100.2', peer_ip: '198.51.100.1' }]);
    expect(answer.status).toBeLessThan(300);
    const request = await eventually(
      async () =>
        (await inboundOnB()).find(
          (r) => r.status?.phase === 'PendingApproval' && JSON.stringify(r.spec).includes('198.51.100.1'),
        ),
      10_000,
      'an inbound request waiting',
    );
    const approval = {
      apiVersion: 'peering.autopeer.dev/v1alpha1',
      kind: 'PeeringRequest',
      metadata: { name: request.metadata.name, namespace: nsB },
      spec: { approved: true },
    };
    // kubectl's own field manager (kubectl), Argo CD's is argocd-controller: neither may meet a conflict.
    const out = await kubectlApply(plane(), [approval], ['--server-side']);
    expect(out).toMatch(/serverside-applied/);
    await kubectlApply(plane(), [approval], ['--server-side', '--field-manager=argocd-controller']);
    await eventually(
      async () => {
        const [session] = (await list('peeringsessions', nsB)).filter(
          (x) => x.spec.peerIp === '198.51.100.1',
        );
        return session?.status !== undefined && (session.status as { state?: string }).state !== 'pending';
      },
      10_000,
      'approved',
    );
    const managers = JSON.parse(
      (
        await plane().kubectl([
          'get',
          'peeringrequest',
          request.metadata.name,
          '-n',
          nsB,
          '-o',
          'json',
          '--show-managed-fields',
        ])
      ).stdout,
    ) as { metadata: { managedFields: { manager: string; operation: string; fieldsV1?: unknown }[] } };
    const names = managers.metadata.managedFields.map((m) => m.manager);
    expect(names).toEqual(expect.arrayContaining(['peering-api', 'kubectl']));
    expect(names).not.toContain('unknown');
    for (const m of managers.metadata.managedFields.filter((f) => f.manager.startsWith('peering-'))) {
      expect(JSON.stringify(m.fieldsV1 ?? {})).not.toMatch(/f:approved/);
    }
  });

  it('a PeeringApproval merged before the peer asks is valid on its own, and approves the sessions when they come', async () => {
    const approval = {
      apiVersion: 'peering.autopeer.dev/v1alpha1',
      kind: 'PeeringApproval',
      metadata: { name: 'as64500-v6', namespace: nsB },
      spec: {
        peerAsn: A,
        // In B's reading (local = B); written as a person would, upper case and all.
        sessions: [{ location: 'pdb:ix:1', localIp: '2001:DB8:1::2', peerIp: '2001:db8:1::1' }],
      },
    };
    await kubectlApply(plane(), [approval], ['--server-side']);
    const waiting = await eventually(
      async () => {
        const a = await get('peeringapproval', nsB, 'as64500-v6');
        return ready(a)?.reason === 'NoRequest' && a;
      },
      10_000,
      'NoRequest',
    );
    expect(ready(waiting)?.message).toMatch(/approved when AS64500 asks/);
    // Refused at the door: an approval of everything a peer may ask is a policy, not an approval.
    const refused = await kubectlApply(plane(), [
      { ...approval, metadata: { name: 'everything', namespace: nsB }, spec: { peerAsn: A } },
    ]).catch((error: Error) => error.message);
    expect(refused).toMatch(/name the request, the sessions, or both/);

    await kubectlApply(plane(), [
      outboundRequest({
        name: 'as64501-v6',
        namespace: nsA,
        localAsn: A,
        peerAsn: B,
        peerApiUrl: netB.apiUrl,
        sessions: [{ location: 'pdb:ix:1', localIp: '2001:db8:1::1', peerIp: '2001:db8:1::2' }],
      }),
    ]);
    await eventually(
      async () => {
        const r = await get('peeringrequest', nsA, 'as64501-v6');
        return r?.status?.phase === 'Established';
      },
      20_000,
      'established through the approval',
    );
    const done = await eventually(
      async () => {
        const a = await get('peeringapproval', nsB, 'as64500-v6');
        return ready(a)?.status === 'True' && a;
      },
      10_000,
      'the approval Ready',
    );
    expect(ready(done)?.message).toMatch(/^approved 1 session\(s\) of AS64500: as64500-ix1-/);
    // The v4 session of the earlier request, which this approval does not cover, still waits.
    const v4 = (await list('peeringsessions', nsB)).find((x) => x.spec.peerIp === '192.0.2.1');
    expect((v4?.status as { state?: string } | undefined)?.state).toBe('pending');
  });
});
