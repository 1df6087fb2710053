import type { LabNetwork, TwoNetworks } from '../../../src/demo/two-networks.js';
import type { PeeringSession } from '../../../src/operator/resources/peering-session.js';
import { onlySession, peeringProtocols, routesFrom, waitFor } from './observe.js';

async function bgpOf(network: LabNetwork): Promise<string | undefined> {
  const store = network.backing!;
  const session: PeeringSession | undefined = onlySession(
    (await store.backing.sessions.list({ namespace: store.namespace })).items,
  );
  return session?.status?.bgp?.state;
}

/**
 * Issue 15's mixed lab, as `it` blocks: AS64500 on BIRD, AS64501 on FRR, each configured by its own driver
 * (in-process standalone, or by router agents on Kubernetes). Both reach Established, exchange exactly their
 * public prefixes, and BGP taken down on either daemon shows on both sides' resources within 15 s with the
 * operator's shipped timings (`label` names the mode in the figures printed).
 */
export function birdFrrScenario(label: string, lab: () => TwoNetworks): void {
  const both = async (established: boolean) => {
    const states = [await bgpOf(lab().a), await bgpOf(lab().b)];
    if (states.every((s) => (s === 'established') === established)) return true;
    throw new Error(`AS64500 ${states[0] ?? '-'}, AS64501 ${states[1] ?? '-'}`);
  };

  it('BIRD and FRR reach Established and exchange exactly their public prefixes', async () => {
    const { a, b } = lab();
    expect([a.routerKind, b.routerKind]).toEqual(['bird', 'frr']);
    await lab().apply();
    await waitFor(() => both(true), 'both resources established', 120_000);
    const [protocol] = await peeringProtocols(a.bird);
    await waitFor(
      async () => (await routesFrom(a.bird, protocol!.name)).includes('203.0.113.0/24'),
      "AS64501's prefix on AS64500's BIRD",
      30_000,
    );
    expect(await routesFrom(a.bird, protocol!.name)).toEqual(['203.0.113.0/24']);
    await waitFor(
      async () => /64500/.test(await b.frr!.show('show bgp ipv4 unicast 198.51.100.0/24')),
      "AS64500's prefix on AS64501's FRR",
      30_000,
    );
    // Neither side's internal space crossed: the two daemons' policies, named by the session defaults.
    expect(await b.frr!.show('show bgp ipv4 unicast 10.64.0.0/16')).toMatch(/not in table/);
    const running = await b.frr!.show('show running-config');
    expect(running).toContain(`neighbor ${a.plan.address} description po `);
    expect(running).toContain(`neighbor ${a.plan.address} route-map peer_in in`);
  }, 180_000);

  it('BGP shut down on FRR shows on both sides within 15 s, and comes back', async () => {
    const { a, b } = lab();
    const neighbor = (shutdown: boolean) =>
      b.frr!.vtysh.command(
        'configure terminal',
        `router bgp ${b.asn}`,
        `${shutdown ? '' : 'no '}neighbor ${a.plan.address} shutdown`,
      );
    const started = performance.now();
    await neighbor(true);
    await waitFor(() => both(false), 'both resources not established', 30_000);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `[bird-frr ${label}] shut down on AS64501's FRR → both not established: ${seconds.toFixed(1)} s`,
    );
    expect(seconds).toBeLessThanOrEqual(15);
    await neighbor(false);
    await waitFor(() => both(true), 'both established again', 60_000);
  }, 120_000);

  it('BGP disabled on BIRD shows on both sides within 15 s, and comes back', async () => {
    const { a } = lab();
    const [protocol] = await peeringProtocols(a.bird);
    const started = performance.now();
    await a.bird.birdc(`disable ${protocol!.name}`);
    await waitFor(() => both(false), 'both resources not established', 30_000);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `[bird-frr ${label}] disabled on AS64500's BIRD → both not established: ${seconds.toFixed(1)} s`,
    );
    expect(seconds).toBeLessThanOrEqual(15);
    await a.bird.birdc(`enable ${protocol!.name}`);
    await waitFor(() => both(true), 'both established again', 60_000);
  }, 120_000);
}
