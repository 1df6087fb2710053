import { PeeringError } from '../../src/domain/errors.js';
import type { SessionTerms } from '../../src/domain/session.js';
import {
  desiredSession,
  maxPrefixesFor,
  statusFromObserved,
  type DesiredSession,
  type ObservedSession,
} from '../../src/router/driver.js';
import { RecordingRouterDriver } from '../../src/router/recording.js';

const terms: SessionTerms = {
  localAsn: 64500,
  localIp: '192.0.2.1',
  peerAsn: 64501,
  peerIp: '192.0.2.2',
  localBgpRole: 4,
  peerBgpRole: 4,
  localInsertAsn: true,
  peerInsertAsn: true,
  localMonitoringSession: false,
  peerMonitoringSession: false,
  peerType: 'public',
  location: { id: 'pdb:ix:26', type: 'public' },
  sessionSecret: 's3cret',
};

describe('desiredSession', () => {
  it('takes key, addresses, ASNs, roles and secret from the terms, the rest from the caller', () => {
    expect(desiredSession(terms, { maxPrefixes: 10, exportFilter: 'peer_out' })).toEqual({
      key: '64501|pdb:ix:26|192.0.2.1|192.0.2.2',
      localAsn: 64500,
      localIp: '192.0.2.1',
      peerAsn: 64501,
      peerIp: '192.0.2.2',
      localRole: 4,
      peerRole: 4,
      secret: 's3cret',
      maxPrefixes: 10,
      exportFilter: 'peer_out',
    });
  });
});

describe('maxPrefixesFor', () => {
  it('uses PeeringDB info_prefixes4/6 for the family, 0 and null meaning unknown', () => {
    const net = { info_prefixes4: 120, info_prefixes6: 0 };
    expect(maxPrefixesFor(net, 'ipv4')).toBe(120);
    expect(maxPrefixesFor(net, 'ipv6')).toBeUndefined();
    expect(maxPrefixesFor({ info_prefixes4: null, info_prefixes6: 7 }, 'ipv6')).toBe(7);
    expect(maxPrefixesFor(undefined, 'ipv4')).toBeUndefined();
  });
});

describe('statusFromObserved', () => {
  const observed = (state: ObservedSession['state']): ObservedSession => ({
    key: 'k',
    protocol: 'p',
    state,
    routes: { imported: 0, exported: 0 },
  });
  it.each([
    ['established', 'configured', 'established'],
    ['active', 'configured', 'configured'],
    ['idle', 'approved', 'configured'],
    ['active', 'established', 'down'],
    ['down', 'down', 'down'],
    ['established', 'down', 'established'],
  ] as const)('%s after %s is %s', (state, previous, expected) => {
    expect(statusFromObserved(observed(state), previous)).toBe(expected);
  });
  it('keeps the previous status when the router does not report the session', () => {
    expect(statusFromObserved(undefined, 'established')).toBe('established');
  });
});

describe('RecordingRouterDriver', () => {
  const session = desiredSession(terms);
  const clock = () => new Date('2026-01-01T00:00:00Z');

  it('configures, reports unchanged on a repeat and updated on a change, and records every call', async () => {
    const router = new RecordingRouterDriver(clock);
    expect(await router.apply({ upsert: [session] })).toEqual({
      sessions: [{ key: session.key, outcome: 'configured', change: 'created' }],
      reloaded: true,
    });
    // Same session with fields in another order and an explicit undefined: unchanged.
    const reordered = {
      ...Object.fromEntries(Object.entries(session).reverse()),
      name: undefined,
    } as DesiredSession;
    expect(await router.apply({ upsert: [reordered] })).toEqual({
      sessions: [{ key: session.key, outcome: 'configured', change: 'unchanged' }],
      reloaded: false,
    });
    expect((await router.apply({ upsert: [{ ...session, maxPrefixes: 5 }] })).sessions[0]).toMatchObject({
      change: 'updated',
    });
    expect(router.configured().get(session.key)?.maxPrefixes).toBe(5);
    expect(router.calls.map((call) => call.method)).toEqual(['apply', 'apply', 'apply']);
  });

  it('reports sessions idle (configured, no BGP) until a test plays the peer', async () => {
    const router = new RecordingRouterDriver(clock);
    await router.apply({ upsert: [session] });
    expect(await router.observe()).toEqual([
      expect.objectContaining({ key: session.key, state: 'idle', routes: { imported: 0, exported: 0 } }),
    ]);
    router.setBgpState(session.key, 'established', { routes: { imported: 3, exported: 1 } });
    expect((await router.observe())[0]).toMatchObject({ state: 'established', routes: { imported: 3 } });
    expect(() => router.setBgpState('nope', 'established')).toThrow(RangeError);
  });

  it('validates with the same rules as every driver', async () => {
    const router = new RecordingRouterDriver(clock);
    const result = await router.apply({ upsert: [{ ...session, secret: 'x"; import all;' }] });
    expect(result.sessions[0]).toMatchObject({ outcome: 'rejected', error: { code: 'INVALID_FIELD' } });
    expect(router.configured().size).toBe(0);
  });

  it('removes, answers absent for unknown keys, and sync removes what is not desired', async () => {
    const router = new RecordingRouterDriver(clock);
    const other = desiredSession({ ...terms, peerIp: '192.0.2.3' });
    await router.apply({ upsert: [session, other] });
    expect((await router.apply({ remove: [session.key, 'unknown'] })).sessions).toEqual([
      { key: session.key, outcome: 'removed', change: 'removed' },
      { key: 'unknown', outcome: 'removed', change: 'absent' },
    ]);
    await router.apply({ upsert: [session] });
    const synced = await router.sync([session]);
    expect(synced.sessions).toEqual([
      { key: session.key, outcome: 'configured', change: 'unchanged' },
      { key: other.key, outcome: 'removed', change: 'removed' },
    ]);
    expect([...router.configured().keys()]).toEqual([session.key]);
  });

  it('fails a batch on request, changing nothing', async () => {
    const router = new RecordingRouterDriver(clock);
    router.failNextApply(new PeeringError('ROUTER_REJECTED', 'BIRD refused the configuration'));
    await expect(router.apply({ upsert: [session] })).rejects.toMatchObject({ code: 'ROUTER_REJECTED' });
    expect(router.configured().size).toBe(0);
    expect((await router.apply({ upsert: [session] })).sessions[0]).toMatchObject({ change: 'created' });
  });
});
