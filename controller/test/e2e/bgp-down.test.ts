import type { LabNetwork } from '../../src/demo/two-networks.js';
import type { PeeringSession } from '../../src/operator/resources/peering-session.js';
import { onlySession, peeringProtocols, waitFor } from './support/observe.js';
import { describeStandaloneLab } from './support/standalone-lab.js';

async function bgpOf(network: LabNetwork): Promise<string | undefined> {
  const store = network.backing!;
  const session: PeeringSession | undefined = onlySession(
    (await store.backing.sessions.list({ namespace: store.namespace })).items,
  );
  return session?.status?.bgp?.state;
}

// Issue 15: a BGP session taken down on a daemon shows as not established on both sides' resources within 15 s
// with the operator's shipped timings (the lab's fast operator timings are turned off; BGP timers stay the lab's).
describeStandaloneLab(
  'BGP taken down on a router shows on both sides within 15 s, with the shipped timings',
  { operatorOptions: { sessions: undefined, queue: undefined, resyncMs: undefined } },
  (lab) => {
    it('disabled on AS64500’s BIRD: both resources leave established within 15 s, and come back after', async () => {
      const { a, b } = lab();
      await lab().apply();
      const both = async (state: string, equal: boolean) => {
        const states = [await bgpOf(a), await bgpOf(b)];
        if (states.every((s) => (s === state) === equal)) return true;
        throw new Error(`AS64500 ${states[0] ?? '-'}, AS64501 ${states[1] ?? '-'}`);
      };
      await waitFor(() => both('established', true), 'both resources established', 90_000);

      const [protocol] = await peeringProtocols(a.bird);
      const started = performance.now();
      await a.bird.birdc(`disable ${protocol!.name}`);
      await waitFor(() => both('established', false), 'both resources not established', 30_000);
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `[bgp-down] disabled on AS64500's BIRD → both resources not established: ${seconds.toFixed(1)} s`,
      );
      expect(seconds).toBeLessThanOrEqual(15);

      await a.bird.birdc(`enable ${protocol!.name}`);
      await waitFor(() => both('established', true), 'both resources established again', 60_000);
    }, 180_000);
  },
);
