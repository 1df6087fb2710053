import { sessionTerms } from '../../src/domain/session.js';
import { changedSessions, RouterWatch } from '../../src/operator/reconcilers/router-watch.js';
import {
  peeringSession,
  sessionSpec,
  type PeeringSession,
} from '../../src/operator/resources/peering-session.js';
import { silentLogger } from '../../src/operator/runtime/logger.js';
import { desiredSession } from '../../src/router/driver.js';
import { RecordingRouterDriver } from '../../src/router/recording.js';
import { SessionRouter } from '../../src/router/session-router.js';
import { ManualClock, systemClock } from '../../src/time/clock.js';

const terms = (peerIp: string) =>
  sessionTerms({ localAsn: 64500, localIp: '192.0.2.1', peerAsn: 64501, peerIp, location: 'pdb:ix:1' });

function session(name: string, peerIp: string, bgpState?: string): PeeringSession {
  const made = peeringSession(
    'default',
    name,
    sessionSpec(terms(peerIp), { direction: 'Inbound', sessionId: '00000000-0000-4000-8000-000000000001' }),
  );
  return {
    ...made,
    metadata: { ...made.metadata, generation: 1 },
    status: bgpState ? { bgp: { state: bgpState } } : {},
  } as PeeringSession;
}

describe('changedSessions', () => {
  it('picks the sessions whose BGP state on the router differs from their status, and nothing else', () => {
    const observed = new Map([
      ['a', { state: 'established' as const }],
      ['b', { state: 'active' as const }],
    ]);
    expect(
      changedSessions(
        [
          { objectKey: 'ns/a', routerKey: 'a', bgpState: 'established' },
          { objectKey: 'ns/b', routerKey: 'b', bgpState: 'established' },
          { objectKey: 'ns/c', routerKey: 'c', bgpState: 'established' },
          { objectKey: 'ns/d', routerKey: 'd', bgpState: undefined },
          // Not on the router and already said so: nothing to look at.
          { objectKey: 'ns/e', routerKey: 'e', bgpState: 'unknown' },
        ],
        observed,
      ),
    ).toEqual(['ns/b', 'ns/c']);
  });
});

describe('RouterWatch', () => {
  it('one look at the whole router sends exactly the sessions that went down to the reconciler', async () => {
    const driver = new RecordingRouterDriver();
    const clock = new ManualClock();
    // Real timers for the router's batching, and a time we move: the second look is past the observation cache.
    let now = 1_000_000;
    const router = new SessionRouter(driver, { clock: { ...systemClock, now: () => now } });
    const up = session('up', '192.0.2.2', 'established');
    const down = session('down', '192.0.2.3', 'established');
    for (const s of [up, down]) {
      const desired = desiredSession(sessionTerms(s.spec));
      await router.configure(desired);
      driver.setBgpState(desired.key, 'established');
    }
    const enqueued: string[] = [];
    const watch = new RouterWatch({
      router,
      sessions: () => [up, down],
      enqueue: (key) => enqueued.push(key),
      clock,
      logger: silentLogger,
      everyMs: 5_000,
    });
    expect(await watch.tick()).toEqual([]);
    driver.setBgpState(desiredSession(sessionTerms(down.spec)).key, 'active');
    now += 3_000;
    expect(await watch.tick()).toEqual(['default/down']);
    expect(enqueued).toEqual(['default/down']);
  });

  it('runs on its timer while started, and not after stop', async () => {
    const clock = new ManualClock();
    const driver = new RecordingRouterDriver();
    let looks = 0;
    const observe = driver.observe.bind(driver);
    driver.observe = async () => {
      looks += 1;
      return observe();
    };
    const watch = new RouterWatch({
      router: new SessionRouter(driver, { clock }),
      sessions: () => [],
      enqueue: () => undefined,
      clock,
      logger: silentLogger,
      everyMs: 5_000,
    });
    watch.start();
    await clock.advance(5_000);
    await new Promise((resolve) => setImmediate(resolve));
    await clock.advance(5_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(looks).toBe(2);
    watch.stop();
    await clock.advance(20_000);
    expect(looks).toBe(2);
  });
});
