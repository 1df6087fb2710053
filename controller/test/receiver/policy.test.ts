import { sessionTerms, type SessionTerms } from '../../src/domain/session.js';
import {
  judgeSession,
  pendingLimitRejection,
  type LocationFacts,
  type ReceiverPolicy,
} from '../../src/receiver/policy.js';

// Facts made here, in PeeringDB's shape, so these decisions need no PeeringDB sample: AS64500 (us) and AS64501
// at a documentation exchange, one port each per family.
const POLICY: ReceiverPolicy = {
  ourAsns: [64500],
  approval: 'auto',
  denyAsns: [],
  maxPendingSessionsPerPeer: 2,
  maxSessionsPerRequest: 100,
};

const IX: LocationFacts = {
  location: { id: 'pdb:ix:7', type: 'public' },
  known: true,
  name: 'Example IX',
  ourPresent: true,
  ourAddresses: new Set(['192.0.2.1', '2001:db8::1']),
  peerPresent: true,
  peerAddresses: new Set(['192.0.2.2', '2001:db8::2']),
  prefixes: ['192.0.2.0/24', '2001:db8::/64'],
};

const FACILITY: LocationFacts = {
  location: { id: 'pdb:fac:9', type: 'private' },
  known: true,
  name: 'Example Facility',
  ourPresent: true,
  ourAddresses: new Set(),
  peerPresent: true,
  peerAddresses: new Set(),
  prefixes: [],
};

const TERMS: SessionTerms = sessionTerms({
  localAsn: 64500,
  localIp: '192.0.2.1',
  peerAsn: 64501,
  peerIp: '192.0.2.2',
  location: 'pdb:ix:7',
});

const codes = (terms: Partial<SessionTerms>, facts = IX, policy = POLICY) => {
  const verdict = judgeSession({ ...TERMS, ...terms }, facts, policy);
  return verdict.accepted ? [] : verdict.rejections.map((r) => `${r.field} ${r.code}`);
};

describe('judgeSession', () => {
  it('approves a public session whose addresses PeeringDB lists, in both families', () => {
    expect(judgeSession(TERMS, IX, POLICY)).toEqual({ accepted: true, status: 'approved' });
    const v6 = { ...TERMS, localIp: '2001:db8::1', peerIp: '2001:db8::2' };
    expect(judgeSession(v6, IX, POLICY)).toEqual({ accepted: true, status: 'approved' });
  });

  it('leaves a session pending under manual approval, and a private one always', () => {
    expect(judgeSession(TERMS, IX, { ...POLICY, approval: 'manual' })).toEqual({
      accepted: true,
      status: 'pending',
    });
    const privately = { ...TERMS, location: FACILITY.location, peerType: 'private' as const };
    expect(judgeSession(privately, FACILITY, POLICY)).toEqual({ accepted: true, status: 'pending' });
  });

  it.each<[string, Partial<SessionTerms>, string[]]>([
    ['mixed address families', { peerIp: '2001:db8::2' }, ['peer_ip ADDRESS_FAMILY_MISMATCH']],
    ['one role only', { localBgpRole: 4 }, ['peer_bgp_role ROLE_MISMATCH']],
    ['roles that are not role-correct', { localBgpRole: 4, peerBgpRole: 0 }, ['peer_bgp_role ROLE_MISMATCH']],
    [
      'two monitoring sides',
      { localMonitoringSession: true, peerMonitoringSession: true },
      ['peer_monitoring_session MONITORING_CONFLICT'],
    ],
    ['a private peer_type at an exchange', { peerType: 'private' }, ['peer_type LOCATION_TYPE_MISMATCH']],
    ['an address of ours we do not have there', { localIp: '192.0.2.9' }, ['local_ip LOCAL_IP_NOT_OURS']],
    ['a peer address PeeringDB does not list', { peerIp: '192.0.2.3' }, ['peer_ip PEER_IP_NOT_REGISTERED']],
  ])('refuses %s, naming the field', (_, change, expected) => {
    expect(codes(change)).toEqual(expected);
  });

  it('names the side that is missing its role', () => {
    expect(codes({ peerBgpRole: 4 })).toEqual(['local_bgp_role ROLE_MISMATCH']);
  });

  it('refuses an address outside the exchange LAN even when PeeringDB lists it', () => {
    const facts = { ...IX, peerAddresses: new Set(['192.0.2.2', '198.51.100.2']) };
    expect(codes({ peerIp: '198.51.100.2' }, facts)).toEqual(['peer_ip PEER_IP_OUTSIDE_PREFIX']);
  });

  it('refuses a location PeeringDB does not know, or where one network is not present', () => {
    expect(codes({}, { ...IX, known: false })).toEqual(['location LOCATION_UNKNOWN']);
    expect(codes({}, { ...IX, ourPresent: false })).toEqual(['location LOCATION_NOT_SHARED']);
    const privately = { location: FACILITY.location, peerType: 'private' as const };
    expect(codes(privately, { ...FACILITY, peerPresent: false })).toEqual(['location LOCATION_NOT_SHARED']);
    const absent = judgeSession(TERMS, { ...IX, peerPresent: false, peerAddresses: new Set() }, POLICY);
    expect(absent).toMatchObject({ accepted: false, rejections: [{ code: 'PEER_IP_NOT_REGISTERED' }] });
    expect(JSON.stringify(absent)).toMatch(/no operational port at Example IX/);
  });

  it('refuses a denied network, and any network outside an allow list', () => {
    expect(codes({}, IX, { ...POLICY, denyAsns: [64501] })).toEqual(['peer_asn PEER_NOT_ALLOWED']);
    expect(codes({}, IX, { ...POLICY, allowAsns: [64502] })).toEqual(['peer_asn PEER_NOT_ALLOWED']);
    expect(codes({}, IX, { ...POLICY, allowAsns: [64501] })).toEqual([]);
  });

  describe('refuses addresses that can never be BGP endpoints, at a facility as at an exchange', () => {
    const privately = { location: FACILITY.location, peerType: 'private' as const };
    const v6 = { localIp: '2001:db8::1', peerIp: '2001:db8::2' };
    it.each([
      ['0.0.0.0', {}],
      ['0.1.2.3', {}],
      ['127.0.0.1', {}],
      ['127.255.0.9', {}],
      ['224.0.0.5', {}],
      ['239.1.1.1', {}],
      ['169.254.10.1', {}],
      ['255.255.255.255', {}],
      ['::', v6],
      ['::1', v6],
      ['fe80::1', v6],
      ['ff02::5', v6],
    ])('%s', (address, family) => {
      for (const [where, facts] of [
        [privately, FACILITY],
        [{}, IX],
      ] as const) {
        const peer = codes({ ...family, ...where, peerIp: address }, facts);
        expect(peer).toEqual(['peer_ip UNUSABLE_ADDRESS']);
        const local = codes({ ...family, ...where, localIp: address }, facts);
        expect(local).toEqual(['local_ip UNUSABLE_ADDRESS']);
      }
    });

    it('refuses one address on both sides', () => {
      const same = { ...privately, localIp: '198.51.100.7', peerIp: '198.51.100.7' };
      expect(codes(same, FACILITY)).toEqual(['peer_ip UNUSABLE_ADDRESS']);
      const verdict = judgeSession({ ...TERMS, ...same }, FACILITY, POLICY);
      expect(verdict.accepted ? '' : verdict.rejections[0]?.message).toContain('198.51.100.7');
    });

    it('accepts ordinary addresses at a facility, and loopback only where a lab allows it', () => {
      expect(codes({ ...privately, localIp: '198.51.100.1', peerIp: '198.51.100.2' }, FACILITY)).toEqual([]);
      const lab = { ...POLICY, allowLoopbackEndpoints: true };
      const loopback = { ...privately, localIp: '127.0.0.2', peerIp: '127.0.0.3' };
      expect(codes(loopback, FACILITY, lab)).toEqual([]);
      expect(codes(loopback, FACILITY)).toEqual(['local_ip UNUSABLE_ADDRESS', 'peer_ip UNUSABLE_ADDRESS']);
      // The lab switch opens loopback only, never the other ranges.
      expect(codes({ ...privately, peerIp: '224.0.0.5' }, FACILITY, lab)).toEqual([
        'peer_ip UNUSABLE_ADDRESS',
      ]);
    });
  });

  it('says every reason at once, in a coordinator’s words', () => {
    const verdict = judgeSession({ ...TERMS, localIp: '192.0.2.9', peerIp: '192.0.2.3' }, IX, POLICY);
    expect(verdict).toMatchObject({ accepted: false });
    const messages = verdict.accepted ? [] : verdict.rejections.map((r) => r.message);
    expect(messages).toEqual([
      '192.0.2.9 is not an address of AS64500 at Example IX (pdb:ix:7); ours there: 192.0.2.1, 2001:db8::1',
      '192.0.2.3 is not registered to AS64501 at Example IX (pdb:ix:7) in PeeringDB; its addresses there: 192.0.2.2, 2001:db8::2',
    ]);
  });
});

describe('the pending limit', () => {
  it('lets a peer fill its queue up to the limit and no further', () => {
    expect(pendingLimitRejection(64501, 1, POLICY)).toBeUndefined();
    expect(pendingLimitRejection(64501, 2, POLICY)).toEqual({
      field: 'peer_asn',
      code: 'PENDING_LIMIT',
      message: 'AS64501 already has 2 sessions awaiting approval (limit 2)',
    });
  });
});
