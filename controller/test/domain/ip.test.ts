import { canonicalIpv6, parseIpAddress, prefixContains } from '../../src/domain/ip.js';

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
