import { describeChanges, summaryOf, type NetworkSnapshot } from '../../src/demo/narration.js';

const outbound = (patch: Partial<NetworkSnapshot['requests'][number]> = {}) => ({
  name: 'default/as64501',
  direction: 'Outbound' as const,
  peerAsn: 64501,
  posting: false,
  accepted: 0,
  rejections: [],
  ...patch,
});

const snapshot = (patch: Partial<NetworkSnapshot> = {}): NetworkSnapshot => ({
  asn: 64500,
  requests: [],
  sessions: [],
  bird: [],
  ...patch,
});

const texts = (before: NetworkSnapshot | undefined, after: NetworkSnapshot) =>
  describeChanges(before, after)
    .sort((x, y) => x.stage - y.stage)
    .map((s) => s.text);

describe('demo narration', () => {
  it('tells a POST it only saw answered as sent, then the answer with every rejection', () => {
    const before = snapshot({ requests: [outbound()] });
    const after = snapshot({
      requests: [outbound({ requestId: 'r-1', accepted: 1, rejections: ['127.0.0.9 is not registered'] })],
    });
    expect(texts(before, after)).toEqual([
      "AS64500 → AS64501: POST /sessions sent (bearer: a JWT for AS64501's API from the issuer)",
      'AS64500: AS64501 answered: 1 session(s) accepted, 1 rejected (request id r-1)',
      'AS64500:   rejected: 127.0.0.9 is not registered',
    ]);
    // Nothing changed, nothing told.
    expect(texts(after, after)).toEqual([]);
    // Credentials with a DPoP key: the line says the request is bound and signed.
    const signed = snapshot({ requests: [outbound({ requestId: 'r-1', accepted: 1, proof: 'dpop' })] });
    expect(texts(before, signed)[0]).toBe(
      "AS64500 → AS64501: POST /sessions sent (a JWT for AS64501's API bound to our DPoP key, a fresh DPoP proof, the request signed with that key)",
    );
  });

  it('tells BGP state changes with the error, routes once, a BIRD that stops answering once and its return', () => {
    const protocol = { name: 'po_AS64501_ix127_x', neighborAs: 64501, received: [] as string[] };
    const active = snapshot({
      bird: [{ ...protocol, bgpState: 'Active', lastError: 'Socket: Connection refused' }],
    });
    const up = snapshot({ bird: [{ ...protocol, bgpState: 'Established', received: ['203.0.113.0/24'] }] });
    expect(texts(undefined, active)).toEqual([
      'AS64500: BIRD runs protocol po_AS64501_ix127_x to AS64501',
      'AS64500: BIRD: BGP Active (Socket: Connection refused)',
    ]);
    expect(texts(active, up)).toEqual([
      'AS64500: BIRD: BGP Active → Established',
      'AS64500: BIRD received 203.0.113.0/24 from AS64501',
    ]);
    const gone = snapshot({ bird: { unreachable: 'connect ENOENT bird.ctl' } });
    expect(texts(up, gone)).toEqual(['AS64500: BIRD cannot be reached: connect ENOENT bird.ctl']);
    expect(texts(gone, gone)).toEqual([]);
    // A BIRD that answers again was restarted: its protocols start over, and are told again.
    expect(texts(gone, up)).toEqual([
      'AS64500: BIRD answers again',
      'AS64500: BIRD runs protocol po_AS64501_ix127_x to AS64501',
      'AS64500: BIRD: BGP Established',
      'AS64500: BIRD received 203.0.113.0/24 from AS64501',
    ]);
  });

  it('sums a network up in one line', () => {
    const s = snapshot({
      sessions: [
        {
          name: 'default/x',
          sessionId: 'id',
          direction: 'Outbound',
          peerAsn: 64501,
          location: 'pdb:ix:127',
          localIp: '127.0.0.2',
          peerIp: '127.0.0.3',
          state: 'established',
          configured: { ok: true, message: '' },
          bgp: { state: 'established', received: 1, sent: 1 },
        },
      ],
    });
    expect(summaryOf(s)).toBe('AS64500: established with AS64501, BGP established, 1 received / 1 sent');
    expect(summaryOf(snapshot())).toBe('AS64500: no sessions');
  });
});
