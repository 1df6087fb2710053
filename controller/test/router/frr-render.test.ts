import {
  configScript,
  keyOfConfig,
  neighborConfig,
  parseRunningConfig,
  sameNeighbor,
} from '../../src/router/frr/render.js';
import type { DesiredSession } from '../../src/router/driver.js';

const SESSION: DesiredSession = {
  key: '64500|pdb:ix:26|192.0.2.2|192.0.2.1',
  localAsn: 64501,
  localIp: '192.0.2.2',
  peerAsn: 64500,
  peerIp: '192.0.2.1',
  localRole: 2,
  peerRole: 1,
  requireRoles: true,
  secret: 's3cret',
  maxPrefixes: 100,
  importFilter: 'peer_in',
  timers: { hold: 90 },
};

describe('FRR configuration of a session', () => {
  it('renders FRR’s words: hyphenated roles, keepalive from hold, a deny-all for a missing filter', () => {
    expect(neighborConfig(SESSION)).toEqual({
      peerIp: '192.0.2.1',
      addressFamily: 'ipv4 unicast',
      global: [
        'remote-as 64500',
        'description po 64500|pdb:ix:26|192.0.2.2|192.0.2.1',
        'update-source 192.0.2.2',
        'password s3cret',
        'local-role rs-client strict-mode',
        'timers 30 90',
      ],
      perFamily: [
        'activate',
        'maximum-prefix 100 restart 1',
        'route-map peer_in in',
        'route-map po-deny-all out',
      ],
    });
    expect(neighborConfig({ ...SESSION, timers: { keepalive: 10 } }).global).toContain('timers 10 30');
    expect(neighborConfig({ ...SESSION, timers: { hold: 0 } }).global).toContain('timers 0 0');
    expect(neighborConfig({ ...SESSION, peerIp: '2001:db8::1', localIp: '2001:db8::2' }).addressFamily).toBe(
      'ipv6 unicast',
    );
  });

  it('a change sends only the difference: settings replaced in place, settings dropped with no, nothing else', () => {
    const before = neighborConfig(SESSION);
    const after = neighborConfig({ ...SESSION, maxPrefixes: 200, secret: undefined, passive: true });
    expect(configScript(64501, [{ before, after }]).split('\n')).toEqual([
      'route-map po-deny-all deny 10',
      'exit',
      'router bgp 64501',
      ' no neighbor 192.0.2.1 password s3cret',
      ' neighbor 192.0.2.1 passive',
      ' address-family ipv4 unicast',
      '  neighbor 192.0.2.1 maximum-prefix 200 restart 1',
      ' exit-address-family',
      'exit',
      '',
    ]);
    // Rolling back is the same with the two swapped.
    expect(configScript(64501, [{ before: after, after: before }])).toContain(
      ' neighbor 192.0.2.1 password s3cret',
    );
    expect(configScript(64501, [{ before }])).toContain(' no neighbor 192.0.2.1\n');
  });

  it('reads the running configuration back, keeps hand-made lines out of the comparison, and knows its own', () => {
    const running = [
      'frr version 8.4.4',
      'router bgp 64501',
      ' bgp router-id 192.0.2.2',
      ' neighbor 192.0.2.1 remote-as 64500',
      ' neighbor 192.0.2.1 description po 64500|pdb:ix:26|192.0.2.2|192.0.2.1',
      ' neighbor 192.0.2.1 update-source 192.0.2.2',
      ' neighbor 192.0.2.1 password s3cret',
      ' neighbor 192.0.2.1 local-role rs-client strict-mode',
      ' neighbor 192.0.2.1 timers 30 90',
      ' neighbor 192.0.2.1 bfd',
      ' neighbor 192.0.2.9 remote-as 64509',
      ' !',
      ' address-family ipv4 unicast',
      '  neighbor 192.0.2.1 maximum-prefix 100 restart 1',
      '  neighbor 192.0.2.1 route-map peer_in in',
      '  neighbor 192.0.2.1 route-map po-deny-all out',
      ' exit-address-family',
      'exit',
      'router bgp 64999 vrf other',
      ' neighbor 10.0.0.1 remote-as 1',
      'exit',
    ].join('\n');
    const parsed = parseRunningConfig(running);
    expect(parsed.asn).toBe(64501);
    expect([...parsed.neighbors.keys()]).toEqual(['192.0.2.1', '192.0.2.9']);
    const ours = parsed.neighbors.get('192.0.2.1')!;
    expect(keyOfConfig(ours)).toBe(SESSION.key);
    expect(keyOfConfig(parsed.neighbors.get('192.0.2.9')!)).toBeUndefined();
    // IPv4 neighbors are active by default: FRR prints no activate line for them.
    expect(ours.perFamily[0]).toBe('activate');
    expect(sameNeighbor(ours, neighborConfig(SESSION))).toBe(true);
    // The hand-made `bfd` is neither compared nor removed.
    const script = configScript(64501, [
      { before: ours, after: neighborConfig({ ...SESSION, maxPrefixes: 5 }) },
    ]);
    expect(script).not.toMatch(/bfd/);
    expect(script).toContain('maximum-prefix 5 restart 1');
  });

  it('creates neighbors highest address first (IPv6 before IPv4), so bgpd puts each at the head of its list', () => {
    const peers = ['192.0.2.1', '2001:db8::1', '192.0.2.10', '198.51.100.1', '2001:db8:0:1::', '10.0.0.1'];
    const script = configScript(
      64501,
      peers.map((peerIp) => ({ after: neighborConfig({ ...SESSION, key: `k-${peerIp}`, peerIp }) })),
    );
    const created = [...script.matchAll(/^ neighbor (\S+) remote-as/gm)].map((m) => m[1]);
    expect(created).toEqual([
      '2001:db8:0:1::',
      '2001:db8::1',
      '198.51.100.1',
      '192.0.2.10',
      '192.0.2.1',
      '10.0.0.1',
    ]);
  });
});
