import { canonicalIpv6, parseIpAddress, prefixContains } from '../../src/domain/ip.js';
import { rolesAreCorrect, swapSides, naturalKey, type SessionTerms } from '../../src/domain/session.js';

describe('addresses', () => {
  test.each([
    ['2001:7F8:0:0:0:A501:3335:1', '2001:7f8::a501:3335:1'],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::1', '::1'],
    ['2001:0db8::0001', '2001:db8::1'],
    ['2001:db8:1::a501:5169:1', '2001:db8:1::a501:5169:1'],
  ])('%s is written %s (RFC 5952)', (input, canonical) => {
    expect(canonicalIpv6(input)).toBe(canonical);
  });

  test('CIDR input is reduced to the address; zone ids and bad lengths are refused', () => {
    expect(parseIpAddress('192.0.2.1/24')).toEqual({ address: '192.0.2.1', family: 'ipv4' });
    expect(parseIpAddress('2001:DB8::1/64')).toEqual({ address: '2001:db8::1', family: 'ipv6' });
    expect(parseIpAddress('fe80::1%eth0')).toMatch(/zone id/);
    expect(parseIpAddress('192.0.2.1/40')).toMatch(/prefix length/);
    expect(parseIpAddress('192.0.2')).toMatch(/not an IPv4 or IPv6/);
  });

  test('prefix containment by family', () => {
    const v4 = { address: '80.249.211.140', family: 'ipv4' as const };
    expect(prefixContains('80.249.208.0/21', v4)).toBe(true);
    expect(prefixContains('80.249.216.0/21', v4)).toBe(false);
    expect(prefixContains('2001:7f8:1::/64', v4)).toBe(false);
    expect(prefixContains('2001:7f8:1::/64', { address: '2001:7f8:1::a501:3335:1', family: 'ipv6' })).toBe(
      true,
    );
    expect(prefixContains('garbage', v4)).toBe(false);
  });
});

describe('sessions', () => {
  test('RFC 9234 role correctness', () => {
    expect(rolesAreCorrect(4, 4)).toBe(true);
    expect(rolesAreCorrect(0, 3)).toBe(true);
    expect(rolesAreCorrect(3, 0)).toBe(true);
    expect(rolesAreCorrect(1, 2)).toBe(true);
    expect(rolesAreCorrect(0, 4)).toBe(false);
    expect(rolesAreCorrect(1, 1)).toBe(false);
    expect(rolesAreCorrect(3, 3)).toBe(false);
  });

  test('swapping sides twice is the identity, and the natural key follows the peer', () => {
    const terms: SessionTerms = {
      localAsn: 64500,
      localIp: '192.0.2.1',
      peerAsn: 64501,
      peerIp: '192.0.2.2',
      localBgpRole: 0,
      peerBgpRole: 3,
      localInsertAsn: true,
      peerInsertAsn: false,
      localMonitoringSession: true,
      peerMonitoringSession: false,
      peerType: 'public',
      location: { id: 'pdb:ix:1', type: 'public' },
    };
    const swapped = swapSides(terms);
    expect(swapped).toMatchObject({
      localAsn: 64501,
      peerAsn: 64500,
      localBgpRole: 3,
      peerInsertAsn: true,
      peerMonitoringSession: true,
    });
    expect(swapSides(swapped)).toEqual(terms);
    expect(naturalKey(terms)).toBe('64501|pdb:ix:1|192.0.2.1|192.0.2.2');
  });
});
