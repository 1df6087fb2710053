import { desiredSession, type DesiredSession } from '../../src/router/driver.js';
import { RecordingRouterDriver } from '../../src/router/recording.js';
import {
  describeWithBird,
  freePort,
  loopbackBlock,
  startBird,
  TEST_FILTERS,
  type RunningBird,
} from '../support/bird.js';
import { sampleTerms } from '../support/stored.js';

// ADR 0004 §1 and §5: `sync` makes the router's *managed* sessions the desired set, after a crash or with objects
// deleted while the operator was down. A router is shared: protocols someone else configured are never touched.

describe('RecordingRouterDriver.sync', () => {
  it('removes managed sessions left out of the desired set, keeps the desired ones as they are, and never touches foreign protocols', async () => {
    const router = new RecordingRouterDriver();
    router.addForeignProtocol('upstream_transit');
    const kept = desiredSession(sampleTerms({ peerIp: '10.99.100.1' }));
    const orphan = desiredSession(sampleTerms({ peerIp: '10.99.100.2' }));
    await router.apply({ upsert: [kept, orphan] });
    const before = (await router.observe()).find((s) => s.key === kept.key);

    const result = await router.sync([kept]);

    expect(result.sessions).toEqual([
      { key: kept.key, outcome: 'configured', change: 'unchanged' },
      { key: orphan.key, outcome: 'removed', change: 'removed' },
    ]);
    expect([...router.configured().keys()]).toEqual([kept.key]);
    expect(router.foreignProtocols()).toEqual(['upstream_transit']);
    expect((await router.observe()).find((s) => s.key === kept.key)).toEqual(before);
    expect((await router.observe()).map((s) => s.protocol)).not.toContain('upstream_transit');
  });
});

// Foreign protocols in BIRD's main configuration, one of them named as if it were ours.
const FOREIGN_LOOKALIKE = 'po_AS64999_ix1_0123456789abcdef';
const FOREIGN = `${TEST_FILTERS}
protocol static foreign_static { ipv4; route 198.51.100.0/24 blackhole; }
protocol static ${FOREIGN_LOOKALIKE} { ipv4; route 198.51.101.0/24 blackhole; }
`;

describeWithBird('BirdRouterDriver.sync on a real BIRD', () => {
  let bird: RunningBird;
  const address = loopbackBlock();

  beforeAll(async () => {
    const port = await freePort([address(2)]);
    bird = await startBird({ name: 'bird-sync', asn: 64500, address: address(2), port, filters: FOREIGN });
  });
  afterAll(async () => {
    await bird?.stop();
  });

  it('removes only sessions of its include directory that are not desired, never protocols configured elsewhere', async () => {
    const sessionTo = (host: number): DesiredSession =>
      bird.sessionTo({ asn: 64501, address: address(host) });
    const kept = sessionTo(10);
    const orphan = sessionTo(11);
    await bird.driver({ sessionDefaults: { passive: true } }).apply({ upsert: [kept, orphan] });

    // A new process (the operator after a crash) with a driver of its own.
    const restarted = bird.driver({ sessionDefaults: { passive: true } });
    const result = await restarted.sync([kept]);

    expect(result.sessions).toEqual([
      { key: kept.key, outcome: 'configured', change: 'unchanged' },
      { key: orphan.key, outcome: 'removed', change: 'removed' },
    ]);
    const protocols = await bird.birdc('show protocols');
    expect(protocols).toContain(restarted.protocolOf(kept.key));
    expect(protocols).not.toContain(restarted.protocolOf(orphan.key));
    expect(protocols).toContain('foreign_static');
    expect(protocols).toContain(FOREIGN_LOOKALIKE);
    expect((await restarted.observe()).map((s) => s.key)).toEqual([kept.key]);
  });
});
