import {
  SESSION_DEFAULTS,
  naturalKey,
  rolesAreCorrect,
  sessionTerms,
  type SessionTerms,
} from '../../src/domain/session.js';
import { SESSION_RULES, ruleBreaches, wireFieldName } from '../../src/domain/session-rules.js';
import {
  SessionInputSchema,
  swapFieldName,
  swapSides,
  termsFromWire,
  wireFields,
  wireSession,
} from '../../src/domain/session-wire.js';
import { SESSION_RULES as CRD_SESSION_RULES } from '../../src/operator/resources/session-fields.js';
import { validateDesiredSession, desiredSession } from '../../src/router/driver.js';

const TERMS: SessionTerms = sessionTerms({
  localAsn: 64500,
  localIp: '192.0.2.1',
  peerAsn: 64501,
  peerIp: '192.0.2.2',
  localBgpRole: 0,
  peerBgpRole: 3,
  peerInsertAsn: false,
  localMonitoringSession: true,
  location: 'pdb:ix:1',
});

describe('session terms', () => {
  test('RFC 9234 role correctness', () => {
    expect(
      [
        [4, 4],
        [0, 3],
        [3, 0],
        [1, 2],
        [2, 1],
      ].every(([l, p]) => rolesAreCorrect(l as 0, p as 0)),
    ).toBe(true);
    expect(
      [
        [0, 4],
        [1, 1],
        [3, 3],
      ].some(([l, p]) => rolesAreCorrect(l as 0, p as 0)),
    ).toBe(false);
  });

  test('defaults, the location type and canonical addresses come from one place', () => {
    const terms = sessionTerms({
      localAsn: 64500,
      localIp: '2001:DB8:0:0::1',
      peerAsn: 64501,
      peerIp: '2001:db8::2',
      location: 'pdb:fac:7',
    });
    expect(terms).toMatchObject({
      ...SESSION_DEFAULTS,
      localIp: '2001:db8::1',
      location: { id: 'pdb:fac:7', type: 'private' },
      peerType: 'private',
    });
    expect(SESSION_DEFAULTS).toEqual({
      localInsertAsn: true,
      peerInsertAsn: true,
      localMonitoringSession: false,
      peerMonitoringSession: false,
    });
  });

  test('the natural key: the peer, the location and both addresses, canonical, whatever form they came in', () => {
    expect(naturalKey(TERMS)).toBe('64501|pdb:ix:1|192.0.2.1|192.0.2.2');
    expect(
      naturalKey({ peerAsn: 64501, location: 'pdb:ix:1', localIp: '2001:DB8::1', peerIp: '2001:db8:0::2' }),
    ).toBe('64501|pdb:ix:1|2001:db8::1|2001:db8::2');
    expect(naturalKey(sessionTerms({ ...TERMS, localAsn: 64499 }))).toBe(naturalKey(TERMS));
    expect(naturalKey({ ...TERMS, peerAsn: 64502 })).not.toBe(naturalKey(TERMS));
  });
});

describe('the wire mapping', () => {
  test('swapping sides twice is the identity', () => {
    const swapped = swapSides(TERMS);
    expect(swapped).toMatchObject({
      localAsn: 64501,
      peerAsn: 64500,
      localBgpRole: 3,
      peerBgpRole: 0,
      localInsertAsn: false,
      peerInsertAsn: true,
      peerMonitoringSession: true,
    });
    expect(swapSides(swapped)).toEqual(TERMS);
  });

  test.each([
    ['sessions[0].local_ip', 'sessions[0].peer_ip'],
    ['sessions[12].peer_bgp_role', 'sessions[12].local_bgp_role'],
    ['local_asn', 'peer_asn'],
    ['sessions[1].peerIp', 'sessions[1].localIp'],
    ['sessions[0].peer_type', 'sessions[0].peer_type'],
    ['peerType', 'peerType'],
    ['sessions[0].location', 'sessions[0].location'],
  ])('field names swap with the values: %s ⇄ %s', (one, other) => {
    expect(swapFieldName(one)).toBe(other);
    expect(swapFieldName(other)).toBe(one);
  });

  test('a request read as its receiver and as its sender gives the two networks the same session', () => {
    // The initiator (AS64501) writes the REQUEST reading: local_* is the server it asks.
    const sent = SessionInputSchema.parse(wireFields(swapSides(TERMS), 'peer'));
    expect(sent).toMatchObject({ local_asn: 64500, peer_asn: 64501, local_ip: '192.0.2.1' });
    const received = termsFromWire(sent, 'local');
    expect(received).toEqual({ ...TERMS, sessionSecret: undefined });
    // The same session in the DATA TYPES reading (local_* = the initiator) reads back the same.
    expect(termsFromWire(wireFields(swapSides(TERMS), 'local'), 'peer')).toEqual(received);
  });

  test('options left out stay out of what is sent, and defaults apply when read', () => {
    const fields = wireFields(
      { localAsn: 64500, localIp: '192.0.2.1', peerAsn: 64501, peerIp: '192.0.2.2', location: 'pdb:ix:1' },
      'peer',
    );
    expect(JSON.parse(JSON.stringify(fields))).toEqual({
      local_asn: 64501,
      local_ip: '192.0.2.2',
      peer_asn: 64500,
      peer_ip: '192.0.2.1',
      location: 'pdb:ix:1',
    });
    expect(termsFromWire(fields, 'peer')).toMatchObject({ ...SESSION_DEFAULTS, peerType: 'public' });
  });

  test('an answer carries no secret, in either reading', () => {
    const withSecret = { ...TERMS, sessionSecret: 'hunter2', sessionSecretRef: { name: 's', key: 'k' } };
    for (const side of ['local', 'peer'] as const) {
      const answer = wireSession(withSecret, side, '8a3c8a54-3f86-4c8e-9b1a-5d1f0c5f2a10', 'approved');
      expect(JSON.stringify(answer)).not.toMatch(/hunter2|session_secret|"k"/);
      expect(answer.local_asn).toBe(side === 'local' ? 64500 : 64501);
    }
  });
});

describe('one rule set for the receiver, the CRDs and the router', () => {
  const broken: [string, Partial<SessionTerms>, string][] = [
    ['sameFamily', { peerIp: '2001:db8::2' }, 'peerIp'],
    ['rolesPaired', { localBgpRole: undefined }, 'localBgpRole'],
    ['rolesPaired', { peerBgpRole: undefined }, 'peerBgpRole'],
    ['rolesCorrect', { localBgpRole: 4 }, 'peerBgpRole'],
    ['oneMonitoringSide', { peerMonitoringSession: true }, 'peerMonitoringSession'],
  ];

  test.each(broken)('%s is broken by %j and names %s', (id, change, field) => {
    const breaches = ruleBreaches({ ...TERMS, ...change });
    expect(breaches.map((b) => [b.rule.id, b.field])).toEqual([[id, field]]);
    expect(wireFieldName(breaches[0]!.field)).toMatch(/^(local|peer)_[a-z_]+$/);
  });

  test('terms that keep every rule break none', () => {
    expect(ruleBreaches(TERMS)).toEqual([]);
  });

  test("the CRDs' predicates are the domain's, rule for rule", () => {
    expect(CRD_SESSION_RULES.map((r) => r.message)).toEqual(SESSION_RULES.map((r) => r.message));
    for (const [, change] of broken) {
      const subject = { ...TERMS, ...change };
      expect(CRD_SESSION_RULES.map((r) => r.holds(subject))).toEqual(
        SESSION_RULES.map((r) => r.holds(subject)),
      );
    }
  });

  test('the router applies the rules that concern it, and allows a lone role of ours', () => {
    const desired = desiredSession(TERMS);
    expect(validateDesiredSession(desired)).toBe(desired);
    const mixed = validateDesiredSession({ ...desired, peerIp: '2001:db8::2' });
    expect(mixed).toMatchObject({ field: expect.stringMatching(/\.peerIp$/) });
    const wrongRoles = validateDesiredSession({ ...desired, localRole: 4, peerRole: 3 });
    expect(wrongRoles).toMatchObject({ field: expect.stringMatching(/\.peerRole$/) });
    const lone = { ...desired, localRole: 4 as const, peerRole: undefined };
    expect(validateDesiredSession(lone)).toBe(lone);
  });
});
