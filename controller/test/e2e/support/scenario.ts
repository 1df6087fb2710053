import type { LabNetwork, TwoNetworks } from '../../../src/demo/two-networks.js';
import type { PeeringRequest } from '../../../src/operator/resources/peering-request.js';
import type { PeeringSession } from '../../../src/operator/resources/peering-session.js';
import {
  onlySession,
  peeringProtocols,
  protocolTo,
  routesFrom,
  routesTo,
  sessionsAt,
  waitFor,
} from './observe.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function sessionsOf(network: LabNetwork): Promise<PeeringSession[]> {
  const store = network.backing;
  if (!store) throw new Error(`AS${network.asn} runs no operator in this process`);
  return (await store.backing.sessions.list({ namespace: store.namespace })).items;
}

async function requestOf(network: LabNetwork, name: string): Promise<PeeringRequest | undefined> {
  const store = network.backing;
  if (!store) throw new Error(`AS${network.asn} runs no operator in this process`);
  return store.backing.requests.get(store.namespace, name);
}

/**
 * Both resources in state `state` (and, for `established`, BGP established as their routers report it); when
 * not, throws what they are in, which {@link waitFor} reports on a timeout.
 */
async function bothSessionsIn(lab: TwoNetworks, state: string): Promise<[PeeringSession, PeeringSession]> {
  const [a, b] = [onlySession(await sessionsOf(lab.a)), onlySession(await sessionsOf(lab.b))];
  const bgpToo = state === 'established';
  if (
    a?.status?.state === state &&
    b?.status?.state === state &&
    (!bgpToo || (a.status.bgp?.state === 'established' && b.status.bgp?.state === 'established'))
  ) {
    return [a, b];
  }
  const show = (s: PeeringSession | undefined) =>
    s ? `${s.status?.state ?? '-'} (bgp ${s.status?.bgp?.state ?? '-'})` : 'none';
  throw new Error(`AS64500's session is ${show(a)}, AS64501's ${show(b)}`);
}

async function bothBirdsIn(lab: TwoNetworks, bgpState: string): Promise<boolean> {
  const [a, b] = await Promise.all([protocolTo(lab.a.bird, lab.b.asn), protocolTo(lab.b.bird, lab.a.asn)]);
  return a?.bgpState === bgpState && b?.bgpState === bgpState;
}

/**
 * The end-to-end peering of AS64500 and AS64501 on real BIRDs, the same for every backing: request, acceptance,
 * both routers configured, BGP established as BIRD and both operators report it, routes through the filters, a
 * BIRD restart, and de-peering. The tests run in order and share the lab.
 */
export function peeringScenario(mode: string, lab: () => TwoNetworks): void {
  let sessionId = '';

  it('a PeeringRequest on AS64500 ends with BGP established on both BIRDs and both operators reporting it', async () => {
    const { a, b } = lab();
    const started = performance.now();
    await lab().apply();

    // The request went to AS64501's API and was accepted there: the same session id on both sides.
    const [outbound, inbound] = await waitFor(async () => {
      const [x, y] = [onlySession(await sessionsOf(a)), onlySession(await sessionsOf(b))];
      return x && y && ([x, y] as const);
    }, 'a PeeringSession on each side');
    const accepted = performance.now();
    sessionId = outbound.spec.sessionId;
    expect(inbound.spec.sessionId).toBe(sessionId);
    expect(outbound.spec).toMatchObject({
      direction: 'Outbound',
      localAsn: a.asn,
      peerAsn: b.asn,
      localIp: a.plan.address,
      peerIp: b.plan.address,
      location: { id: 'pdb:ix:127', type: 'public' },
    });
    expect(inbound.spec).toMatchObject({
      direction: 'Inbound',
      localAsn: b.asn,
      peerAsn: a.asn,
      localIp: b.plan.address,
      peerIp: a.plan.address,
    });

    // Both routers configured, BGP up as BIRD itself says.
    await waitFor(() => bothBirdsIn(lab(), 'Established'), 'BGP Established on both BIRDs', 30_000);
    const bgpUp = performance.now();
    const [sessionA, sessionB] = await waitFor(
      () => bothSessionsIn(lab(), 'established'),
      'both PeeringSessions established',
      30_000,
    );
    const reported = performance.now();
    console.log(
      `[${mode}] apply → accepted by AS64501: ${seconds(accepted - started)}; ` +
        `→ BGP Established on both BIRDs: ${seconds(bgpUp - started)}; ` +
        `→ both operators report established: ${seconds(reported - started)}`,
    );

    const [birdA, birdB] = [await protocolTo(a.bird, b.asn), await protocolTo(b.bird, a.asn)];
    expect(birdA).toMatchObject({ neighborAddress: b.plan.address, neighborAs: b.asn, localAs: a.asn });
    expect(birdB).toMatchObject({ neighborAddress: a.plan.address, neighborAs: a.asn, localAs: b.asn });
    for (const session of [sessionA, sessionB]) {
      expect(session.status?.conditions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'Configured', status: 'True' }),
          expect.objectContaining({ type: 'Ready', status: 'True' }),
        ]),
      );
    }
    // AS64501's API says so too, to AS64500 calling with a JWT from the issuer.
    const remote = await waitFor(async () => {
      const found = await sessionsAt(b, a);
      return found.length === 1 && found[0]?.status === 'established' && found;
    }, 'GET /sessions at AS64501 to answer established');
    expect(remote[0]).toMatchObject({ sessionId, localAsn: a.asn, peerAsn: b.asn, localIp: a.plan.address });
    const request = await waitFor(async () => {
      const r = await requestOf(a, 'as64501');
      return r?.status?.phase === 'Established' && r;
    }, 'the PeeringRequest in phase Established');
    expect(request.status?.sessionCounts).toEqual({ accepted: 1, pending: 0, rejected: 0, established: 1 });
  });

  it('passes the routes the filters allow, and only those, in both directions', async () => {
    const { a, b } = lab();
    const toB = (await protocolTo(a.bird, b.asn))?.name as string;
    const toA = (await protocolTo(b.bird, a.asn))?.name as string;
    // Each exports exactly its public prefix; its internal one stays in.
    expect(await routesTo(a.bird, toB)).toEqual(['198.51.100.0/24']);
    expect(await routesTo(b.bird, toA)).toEqual(['203.0.113.0/24']);
    // … and the other side receives it through its import filter.
    expect(
      await waitFor(
        async () => (await routesFrom(b.bird, toA)).length > 0 && routesFrom(b.bird, toA),
        'a route at B',
      ),
    ).toEqual(['198.51.100.0/24']);
    expect(
      await waitFor(
        async () => (await routesFrom(a.bird, toB)).length > 0 && routesFrom(a.bird, toB),
        'a route at A',
      ),
    ).toEqual(['203.0.113.0/24']);
    // The operators count them on the resources.
    await waitFor(async () => {
      const [x, y] = [onlySession(await sessionsOf(a)), onlySession(await sessionsOf(b))];
      return (
        x?.status?.bgp?.prefixesReceived === 1 &&
        x.status.bgp.prefixesSent === 1 &&
        y?.status?.bgp?.prefixesReceived === 1 &&
        y.status.bgp.prefixesSent === 1
      );
    }, 'one prefix received and one sent on both resources');
  });

  it('reports down while one BIRD is stopped, and established again once it is back', async () => {
    const { a, b } = lab();
    await a.bird.stop();
    const [downA, downB] = await waitFor(
      () => bothSessionsIn(lab(), 'down'),
      'both PeeringSessions down',
      30_000,
    );
    expect(downB.status?.bgp?.state).not.toBe('established');
    expect(downA.status?.state).toBe('down');
    expect((await sessionsAt(b, a))[0]?.status).toBe('down');

    const restarted = performance.now();
    await a.bird.start();
    await waitFor(() => bothBirdsIn(lab(), 'Established'), 'BGP Established again', 30_000);
    await waitFor(
      () => bothSessionsIn(lab(), 'established'),
      'both PeeringSessions established again',
      30_000,
    );
    console.log(
      `[${mode}] BIRD restart → established again on both sides: ${seconds(performance.now() - restarted)}`,
    );
    expect((await sessionsAt(b, a))[0]).toMatchObject({ sessionId, status: 'established' });
  });

  it('deleting the PeeringRequest de-peers: the protocol leaves both BIRDs, the session both APIs', async () => {
    const { a, b } = lab();
    await lab().remove();
    await waitFor(
      async () =>
        (await peeringProtocols(a.bird)).length === 0 && (await peeringProtocols(b.bird)).length === 0,
      'no peering protocol left in either BIRD',
      30_000,
    );
    await waitFor(
      async () =>
        (await sessionsOf(a)).length === 0 &&
        (await sessionsOf(b)).length === 0 &&
        (await requestOf(a, 'as64501')) === undefined,
      'no PeeringSession left on either side, and the request gone',
    );
    expect(await sessionsAt(b, a)).toEqual([]);
    expect(await a.bird.birdc('show protocols')).not.toMatch(/po_AS/);
    expect(await b.bird.birdc('show protocols')).not.toMatch(/po_AS/);
  });
}
