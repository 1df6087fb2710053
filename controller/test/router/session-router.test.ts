import { desiredSession } from '../../src/router/driver.js';
import { RecordingRouterDriver } from '../../src/router/recording.js';
import { SessionRouter } from '../../src/router/session-router.js';
import { ManualClock } from '../../src/time/clock.js';
import { sampleTerms } from '../support/stored.js';

const session = (i: number) => desiredSession(sampleTerms({ peerIp: `10.99.100.${i}` }), {});

describe('the session router', () => {
  let clock: ManualClock;
  let driver: RecordingRouterDriver;
  let router: SessionRouter;
  const observations = () => driver.calls.filter((c) => c.method === 'observe').length;

  beforeEach(() => {
    clock = new ManualClock();
    driver = new RecordingRouterDriver(() => new Date(clock.now()));
    router = new SessionRouter(driver, { clock, observeMaxAgeMs: 2_000 });
  });

  /** Configures `sessions` (one batch) and resolves with what the router says of each. */
  async function configureAndObserve(sessions: ReturnType<typeof session>[]) {
    const configured = Promise.all(sessions.map((s) => router.configure(s)));
    await clock.advance(5);
    await configured;
    const observed = Promise.all(sessions.map((s) => router.observed(s.key)));
    await clock.advance(500);
    return observed;
  }

  it('answers sessions changed in many small batches from a few shared observations, each after its change', async () => {
    // A router whose whole observation takes 100 ms (BIRD reading 10,000 protocols takes longer).
    const observe = driver.observe.bind(driver);
    driver.observe = async () => {
      await new Promise((resolve) => clock.setTimer(100, () => resolve(undefined)));
      return observe();
    };
    const answers = [];
    for (let i = 1; i <= 50; i += 1) {
      const configured = router.configure(session(i));
      await clock.advance(5);
      await configured;
      answers.push(router.observed(session(i).key));
    }
    await clock.advance(1_000);
    // Every session is seen, by an observation that began after it was configured.
    expect((await Promise.all(answers)).map((s) => s?.key)).toEqual(
      Array.from({ length: 50 }, (_, i) => session(i + 1).key),
    );
    // 50 batches in 250 ms: one observation at a time, each answering all that changed while the last one ran.
    expect(observations()).toBeLessThanOrEqual(4);
  });

  it('answers an unchanged session from memory while the observation is young, and looks again when it is old', async () => {
    await configureAndObserve([session(1), session(2)]);
    const before = observations();
    expect((await router.observed(session(2).key))?.key).toBe(session(2).key);
    expect(observations()).toBe(before);
    await clock.advance(2_001);
    driver.setBgpState(session(2).key, 'established');
    expect((await router.observed(session(2).key))?.state).toBe('established');
    expect(observations()).toBe(before + 1);
  });

  it('never answers a changed session from an observation older than the change', async () => {
    await configureAndObserve([session(1)]);
    driver.setBgpState(session(1).key, 'established');
    // Reconfigured: its next answer must come from an observation begun after this.
    const changed = { ...session(1), maxPrefixes: 1000 };
    const configured = router.configure(changed);
    await clock.advance(5);
    expect(await configured).toMatchObject({ outcome: 'configured', change: 'updated' });
    const before = observations();
    const observed = router.observed(changed.key);
    await clock.advance(500);
    expect((await observed)?.state).toBe('established');
    expect(observations()).toBe(before + 1);
  });

  it('passes a failed observation on to every caller waiting for it, and tries again on the next call', async () => {
    await configureAndObserve([session(1)]);
    await clock.advance(2_001);
    const observe = driver.observe.bind(driver);
    let failures = 1;
    driver.observe = async () => {
      if (failures-- > 0) throw new Error('bird.ctl: connection refused');
      return observe();
    };
    const waiting = [router.observed(session(1).key), router.observed(session(1).key)];
    for (const answer of waiting) await expect(answer).rejects.toThrow('bird.ctl: connection refused');
    expect((await router.observed(session(1).key))?.key).toBe(session(1).key);
  });
});
