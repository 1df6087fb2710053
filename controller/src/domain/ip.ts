import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** An IP address family as PeeringDB names it. */
export type AddressFamily = 'ipv4' | 'ipv6';

/** A parsed, canonical address. */
export interface IpAddress {
  readonly address: string;
  readonly family: AddressFamily;
}

/**
 * Parses one address, accepting the CIDR form `192.0.2.1/24` (docs/api.md §4) and reducing it to the address.
 * Zone ids (`fe80::1%eth0`) are refused: they mean nothing to a remote network.
 * Returns a reason string instead of throwing, so callers can name their own field.
 */
export function parseIpAddress(input: string): IpAddress | string {
  let text = input.trim();
  const slash = text.indexOf('/');
  if (slash !== -1) {
    const length = text.slice(slash + 1);
    text = text.slice(0, slash);
    const max = isIPv4(text) ? 32 : 128;
    if (!/^\d{1,3}$/.test(length) || Number(length) > max) return `"${input}" has an invalid prefix length`;
  }
  if (text.includes('%')) return `"${input}" carries a zone id, which has no meaning across networks`;
  if (isIPv4(text)) {
    if (!/^(\d{1,3})(\.\d{1,3}){3}$/.test(text)) return `"${input}" is not a dotted-quad IPv4 address`;
    return { address: text.split('.').map(Number).join('.'), family: 'ipv4' };
  }
  if (isIPv6(text)) {
    if (text.includes('.')) return `"${input}": write IPv4-embedded IPv6 addresses in hexadecimal`;
    return { address: canonicalIpv6(text), family: 'ipv6' };
  }
  return `"${input}" is not an IPv4 or IPv6 address`;
}

/** RFC 5952 text form, so that the same address always compares equal. */
export function canonicalIpv6(text: string): string {
  const [head = '', tail] = text.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(missing).fill('0'), ...right].map((g) =>
    parseInt(g, 16).toString(16),
  );
  // The longest run of two or more zero groups becomes '::' (the first one on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i += 1;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart === -1) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

/** True when `address` lies inside `prefix` (CIDR). Prefixes that do not parse contain nothing. */
export function prefixContains(prefix: string, address: IpAddress): boolean {
  const [network, lengthText] = prefix.split('/');
  const length = Number(lengthText);
  if (network === undefined || !Number.isInteger(length)) return false;
  const family = isIPv4(network) ? 'ipv4' : isIPv6(network) ? 'ipv6' : undefined;
  if (family !== address.family) return false;
  const list = new BlockList();
  list.addSubnet(network, length, family);
  return list.check(address.address, family);
}

/**
 * Address ranges that can never be the far end of a BGP session between two networks (RFC 6890 special
 * purposes): a session on one would be configured and never come up, or worse, talk to the router itself.
 * Loopback is listed apart because a lab whose exchange lives on the loopback interface needs it.
 */
const NEVER_ENDPOINTS: readonly [string, string][] = [
  ['0.0.0.0/8', 'an unspecified ("this network") address'],
  ['169.254.0.0/16', 'a link-local address'],
  ['224.0.0.0/4', 'a multicast address'],
  ['240.0.0.0/4', 'a reserved or broadcast address'],
  ['::/128', 'the unspecified address'],
  ['fe80::/10', 'a link-local address'],
  ['ff00::/8', 'a multicast address'],
];
const LOOPBACK: readonly [string, string][] = [
  ['127.0.0.0/8', 'a loopback address'],
  ['::1/128', 'the loopback address'],
];

/**
 * Why `address` cannot be a BGP endpoint, or undefined when it can. `allowLoopback` is for labs whose exchange
 * is on the loopback interface (the demo); production keeps it off.
 */
export function unusableEndpoint(address: IpAddress, allowLoopback = false): string | undefined {
  const ranges = allowLoopback ? NEVER_ENDPOINTS : [...NEVER_ENDPOINTS, ...LOOPBACK];
  const hit = ranges.find(([prefix]) => prefixContains(prefix, address));
  return hit === undefined ? undefined : `${address.address} is ${hit[1]}, which can never be a BGP endpoint`;
}
