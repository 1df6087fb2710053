import type { LabNetwork, TwoNetworks } from '../../../src/demo/two-networks.js';
import { LABEL } from '../../../src/operator/resources/api-group.js';
import type { PeeringRequest } from '../../../src/operator/resources/peering-request.js';
import type { PeeringSession } from '../../../src/operator/resources/peering-session.js';
import { peeringProtocols, waitFor } from './observe.js';

async function sessionsOf(network: LabNetwork): Promise<PeeringSession[]> {
  const store = network.backing!;
  return (await store.backing.sessions.list({ namespace: store.namespace })).items;
}

async function requestsOf(network: LabNetwork): Promise<PeeringRequest[]> {
  const store = network.backing!;
  return (await store.backing.requests.list({ namespace: store.namespace })).items;
}

/** `direction family state/bgp` of each session, sorted: one line per session for readable failures. */
async function summary(network: LabNetwork): Promise<string> {
  return (await sessionsOf(network))
    .map(
      (s) =>
        `${s.spec.direction} ${s.spec.localIp.includes(':') ? 'ipv6' : 'ipv4'} ${s.status?.state ?? '-'}/${s.status?.bgp?.state ?? '-'}`,
    )
    .sort()
    .join('; ');
}

/**
 * The draft's counter-request on the two-network lab (started with `counterRequests: true`): AS64500 asks
 * AS64501 for IPv4 only; AS64501 approves it and, by its policy (`counterRequests: auto`), asks AS64500 back at
 * the request's return_url for the IPv6 session at the same exchange, which AS64500 receives as an inbound
 * request under its own policy. Real BIRDs on both sides. The tests run in order and share the lab.
 */
export function counterRequestScenario(lab: () => TwoNetworks): void {
  it('both sessions, IPv4 asked and IPv6 counter-requested, end established on both BIRDs', async () => {
    const { a, b, ipv6 } = lab();
    await lab().apply();
    const wantA = 'Inbound ipv6 established/established; Outbound ipv4 established/established';
    const wantB = 'Inbound ipv4 established/established; Outbound ipv6 established/established';
    await waitFor(
      async () => {
        const [onA, onB] = [await summary(a), await summary(b)];
        if (onA === wantA && onB === wantB) return true;
        throw new Error(`AS64500: ${onA || 'none'} — AS64501: ${onB || 'none'}`);
      },
      'IPv4 and IPv6 established on both sides',
      60_000,
    );

    // The IPv6 session is AS64501's outbound request, labelled with the inbound request it answers.
    const requests = await requestsOf(b);
    const inbound = requests.find((r) => r.spec.direction === 'Inbound')!;
    const counter = requests.find((r) => r.metadata.labels?.[LABEL.answers] === inbound.metadata.name)!;
    expect(counter.spec).toMatchObject({
      direction: 'Outbound',
      localAsn: b.asn,
      peerAsn: a.asn,
      peerApiUrl: a.apiUrl,
      sessions: [{ location: 'pdb:ix:127', localIp: ipv6!.addresses[1], peerIp: ipv6!.addresses[0] }],
    });
    expect(inbound.spec.inbound?.returnUrl).toBe(a.apiUrl);
    expect(inbound.status?.conditions?.find((c) => c.type === 'CounterRequested')).toMatchObject({
      status: 'True',
      reason: 'Created',
    });
    // AS64500 asked for IPv4 only and sent no counter-request of its own (its policy is off).
    expect((await requestsOf(a)).filter((r) => r.metadata.labels?.[LABEL.answers] !== undefined)).toEqual([]);

    // Both BIRDs run both sessions, established, the IPv6 one between the lab's IPv6 ports.
    for (const [network, peer] of [
      [a, ipv6!.addresses[1]],
      [b, ipv6!.addresses[0]],
    ] as const) {
      const protocols = await peeringProtocols(network.bird);
      expect(protocols.map((p) => p.bgpState)).toEqual(['Established', 'Established']);
      expect(protocols.map((p) => p.neighborAddress)).toContain(peer);
    }
  });

  it('the same request again counter-requests nothing more: every session exists', async () => {
    const { b } = lab();
    await lab().apply('as64501-again');
    await waitFor(
      async () => (await requestsOf(b)).filter((r) => r.spec.direction === 'Inbound').length >= 1,
      'the repeat answered',
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const counters = (await requestsOf(b)).filter((r) => r.metadata.labels?.[LABEL.answers] !== undefined);
    expect(counters).toHaveLength(1);
    expect((await sessionsOf(b)).length).toBe(2);
  });
}
