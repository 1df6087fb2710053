import { addressFamily, type BgpRole } from '../../domain/session.js';
import type { BgpTimers, DesiredSession } from '../driver.js';

/** Every neighbor of ours carries this description prefix, then its key: how the driver knows what it owns. */
export const DESCRIPTION_PREFIX = 'po ';

/**
 * A route-map that denies everything, for a session without a filter: FRR would otherwise send and accept every
 * route where `bgp ebgp-requires-policy` is off. The driver owns it (it is the one thing outside its neighbors it
 * writes), so a session never leaks or accepts routes unless the operator names a filter, as with BIRD.
 */
export const DENY_ALL = 'po-deny-all';

/** RFC 9234 roles in FRR's words (`neighbor … local-role`), which hyphenate where BIRD uses underscores. */
const FRR_ROLES: Record<BgpRole, string> = {
  0: 'provider',
  1: 'rs-server',
  2: 'rs-client',
  3: 'customer',
  4: 'peer',
};

/** One neighbor's configuration, as FRR's running config states it: its `neighbor …` lines by context. */
export interface NeighborConfig {
  peerIp: string;
  /** `ipv4 unicast` or `ipv6 unicast`. */
  addressFamily: string;
  /** Lines under `router bgp`, without the `neighbor <peer> ` lead. */
  global: string[];
  /** Lines under the address family, the same way. */
  perFamily: string[];
}

/**
 * A session as FRR configuration. The session must have passed the driver's validation ({@link
 * DesiredSessionSchema} and the FRR rules): numbers are integers, addresses canonical, filter names identifiers,
 * and the secret has no space, so no value can end its command or start another one.
 *
 * @example
 * neighborConfig({ key, localAsn: 64501, localIp: '192.0.2.2', peerAsn: 64500, peerIp: '192.0.2.1' });
 * // { peerIp: '192.0.2.1', addressFamily: 'ipv4 unicast', global: ['remote-as 64500', 'description po …', …], … }
 */
export function neighborConfig(session: DesiredSession): NeighborConfig {
  const global = [`remote-as ${session.peerAsn}`, `description ${DESCRIPTION_PREFIX}${session.key}`];
  if (session.peerPort !== undefined) global.push(`port ${session.peerPort}`);
  global.push(`update-source ${session.sourceAddress ?? session.localIp}`);
  if (session.multihop !== undefined) global.push(`ebgp-multihop ${session.multihop}`);
  if (session.passive === true) global.push('passive');
  if (session.secret !== undefined) global.push(`password ${session.secret}`);
  if (session.localRole !== undefined) {
    global.push(`local-role ${FRR_ROLES[session.localRole]}${session.requireRoles ? ' strict-mode' : ''}`);
  }
  global.push(...timerLines(session.timers ?? {}));
  const perFamily = ['activate'];
  // FRR's `restart` counts minutes; a peer over its limit is torn down and tried again a minute later.
  if (session.maxPrefixes !== undefined) perFamily.push(`maximum-prefix ${session.maxPrefixes} restart 1`);
  perFamily.push(`route-map ${session.importFilter ?? DENY_ALL} in`);
  perFamily.push(`route-map ${session.exportFilter ?? DENY_ALL} out`);
  return {
    peerIp: session.peerIp,
    addressFamily: `${addressFamily(session.peerIp)} unicast`,
    global,
    perFamily,
  };
}

/** FRR sets keepalive and hold together; one given alone gets the other by RFC 4271's usual ratio of three. */
function timerLines(timers: BgpTimers): string[] {
  const lines: string[] = [];
  if (timers.hold !== undefined || timers.keepalive !== undefined) {
    const hold = timers.hold ?? (timers.keepalive as number) * 3;
    const keepalive = timers.keepalive ?? (hold === 0 ? 0 : Math.max(1, Math.floor(hold / 3)));
    lines.push(`timers ${hold === 0 ? 0 : keepalive} ${hold}`);
  }
  if (timers.connectRetry !== undefined) lines.push(`timers connect ${timers.connectRetry}`);
  return lines;
}

/** One neighbor going from `before` to `after` (either absent: created or removed). */
export interface NeighborChange {
  before?: NeighborConfig | undefined;
  after?: NeighborConfig | undefined;
}

/**
 * The FRR configuration (vtysh `-f` syntax) that takes each neighbor from `before` to `after` under `router bgp
 * asn`, touching nothing else: a removed neighbor goes with `no neighbor`; a changed one loses the lines it no
 * longer has (`no neighbor … <line>`) and gains the new ones, so an unchanged line is not sent and FRR does not
 * reset the session for it. Rolling back is the same with `before` and `after` swapped.
 *
 * @example
 * configScript(64501, [{ after: neighborConfig(session) }]);
 * // 'route-map po-deny-all deny 10\nexit\nrouter bgp 64501\n neighbor 192.0.2.1 remote-as 64500\n…'
 */
export function configScript(asn: number, changes: readonly NeighborChange[]): string {
  const global: string[] = [];
  const families = new Map<string, string[]>();
  // bgpd keeps its neighbors in a list sorted by address and finds a new one's place from the head: neighbors
  // created highest address first each go at the head, instead of walking the list (quadratic over a batch).
  const ordered = [...changes].sort((x, y) => {
    const [kx, ky] = [x, y].map((c) => addressOrder((c.after ?? c.before)?.peerIp ?? ''));
    return kx! < ky! ? 1 : kx! > ky! ? -1 : 0;
  });
  for (const { before, after } of ordered) {
    const peer = (after ?? before)?.peerIp;
    if (peer === undefined) continue;
    if (after === undefined) {
      global.push(` no neighbor ${peer}`);
      continue;
    }
    const was = (before?.global ?? []).filter(isOurs);
    const is = after.global;
    // remote-as first: FRR creates the neighbor with it, and every other line needs the neighbor.
    for (const line of is)
      if (line.startsWith('remote-as') && !was.includes(line)) global.push(` neighbor ${peer} ${line}`);
    for (const line of was)
      if (!is.includes(line) && !replaced(line, is)) global.push(` no neighbor ${peer} ${line}`);
    for (const line of is)
      if (!line.startsWith('remote-as') && !was.includes(line)) global.push(` neighbor ${peer} ${line}`);
    const lines = families.get(after.addressFamily) ?? [];
    const wasFamily = before?.addressFamily === after.addressFamily ? before.perFamily.filter(isOurs) : [];
    for (const line of wasFamily) {
      if (!after.perFamily.includes(line) && !replaced(line, after.perFamily))
        lines.push(`  no neighbor ${peer} ${line}`);
    }
    for (const line of after.perFamily)
      if (!wasFamily.includes(line)) lines.push(`  neighbor ${peer} ${line}`);
    families.set(after.addressFamily, lines);
  }
  const out = [`route-map ${DENY_ALL} deny 10`, 'exit', `router bgp ${asn}`, ...global];
  for (const [family, lines] of families) {
    if (lines.length === 0) continue;
    out.push(` address-family ${family}`, ...lines, ' exit-address-family');
  }
  out.push('exit', '');
  return out.join('\n');
}

/**
 * Whether a new line of the same setting replaces `line` (FRR overwrites `password`, `timers`, `route-map … in`
 * and the like in place): then no `no` first, which for some settings would reset the session twice.
 */
function replaced(line: string, lines: readonly string[]): boolean {
  const setting = settingOf(line);
  return lines.some((other) => settingOf(other) === setting);
}

/**
 * Whether the driver writes this kind of line. Lines of other kinds on our neighbors (`shutdown`, `bfd`,
 * `ttl-security` added by hand) are the router team's: the driver neither removes nor compares them.
 */
export function isOurs(line: string): boolean {
  return (
    OVERWRITTEN.test(line) ||
    /^route-map \S+ (in|out)$/.test(line) ||
    line === 'passive' ||
    line === 'activate'
  );
}

/** Whether a neighbor already runs as `after` says (the lines of the kinds the driver writes, in any order). */
export function sameNeighbor(before: NeighborConfig, after: NeighborConfig): boolean {
  const same = (a: readonly string[], b: readonly string[]) => {
    const mine = a.filter(isOurs);
    return mine.length === b.length && b.every((line) => mine.includes(line));
  };
  return (
    before.addressFamily === after.addressFamily &&
    same(before.global, after.global) &&
    same(before.perFamily, after.perFamily)
  );
}

const OVERWRITTEN =
  /^(remote-as|description|port|update-source|ebgp-multihop|password|local-role|timers connect|timers|maximum-prefix)\b/;

function settingOf(line: string): string {
  const routeMap = /^route-map \S+ (in|out)$/.exec(line);
  if (routeMap) return `route-map ${routeMap[1]}`;
  return OVERWRITTEN.exec(line)?.[1] ?? line;
}

/** The BGP part of FRR's running configuration: the router's ASN and every neighbor's lines. */
export interface RunningBgp {
  asn: number | undefined;
  neighbors: Map<string, NeighborConfig>;
}

/**
 * Reads `show running-config` back into neighbors (the default VRF's `router bgp` only), so that after a restart
 * the driver edits a neighbor line by line, as before, instead of replacing it (which would reset its session).
 *
 * @example
 * parseRunningConfig('router bgp 64501\n neighbor 192.0.2.1 remote-as 64500\nexit\n').neighbors.get('192.0.2.1');
 * // { peerIp: '192.0.2.1', addressFamily: 'ipv4 unicast', global: ['remote-as 64500'], perFamily: [] }
 */
export function parseRunningConfig(text: string): RunningBgp {
  const neighbors = new Map<string, NeighborConfig>();
  let asn: number | undefined;
  let inRouter = false;
  let family: string | undefined;
  const neighbor = (peer: string) => {
    let config = neighbors.get(peer);
    if (!config) {
      config = {
        peerIp: peer,
        addressFamily: `${peer.includes(':') ? 'ipv6' : 'ipv4'} unicast`,
        global: [],
        perFamily: [],
      };
      neighbors.set(peer, config);
    }
    return config;
  };
  let ipv4ByDefault = true;
  for (const line of text.split('\n')) {
    if (inRouter && /^ no bgp default ipv4-unicast\s*$/.test(line)) ipv4ByDefault = false;
    const router = /^router bgp (\d+)\s*$/.exec(line);
    if (router) {
      asn = Number(router[1]);
      inRouter = true;
      family = undefined;
      continue;
    }
    if (!inRouter) continue;
    if (/^\S/.test(line)) {
      inRouter = false;
      continue;
    }
    const af = /^ address-family (\S+ \S+)\s*$/.exec(line);
    if (af) {
      family = af[1];
      continue;
    }
    if (/^ exit-address-family/.test(line)) {
      family = undefined;
      continue;
    }
    const match = /^ {1,2}neighbor (\S+) (.+?)\s*$/.exec(line);
    if (!match?.[1] || !match[2]) continue;
    const config = neighbor(match[1]);
    if (family === undefined) config.global.push(match[2]);
    else if (family === config.addressFamily) config.perFamily.push(match[2]);
  }
  // FRR prints no `activate` for an IPv4 neighbor while `bgp default ipv4-unicast` (its default) activates it.
  if (ipv4ByDefault) {
    for (const config of neighbors.values()) {
      if (config.addressFamily === 'ipv4 unicast' && !config.perFamily.includes('activate')) {
        if (!text.includes(`  no neighbor ${config.peerIp} activate`)) config.perFamily.unshift('activate');
      }
    }
  }
  return { asn, neighbors };
}

/** The key of a neighbor of ours from its configuration (`description po <key>`), or undefined. */
export function keyOfConfig(config: NeighborConfig): string | undefined {
  const line = config.global.find((l) => l.startsWith('description '));
  return line === undefined ? undefined : keyOfDescription(line.slice('description '.length));
}

/** The key in a neighbor's description (`po <key>`), or undefined when the neighbor is not ours. */
export function keyOfDescription(description: string | undefined): string | undefined {
  if (!description?.startsWith(DESCRIPTION_PREFIX)) return undefined;
  return description.slice(DESCRIPTION_PREFIX.length).split(' ')[0] || undefined;
}

/** A key that sorts addresses as bgpd's neighbor list does: by family (IPv4 first), then by their bytes. */
function addressOrder(address: string): string {
  if (!address.includes(':')) {
    return `4${address
      .split('.')
      .map((octet) => Number(octet).toString(16).padStart(2, '0'))
      .join('')}`;
  }
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `6${groups.map((group) => group.padStart(4, '0')).join('')}`;
}
