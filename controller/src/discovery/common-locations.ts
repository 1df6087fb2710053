import { PeeringError } from '../domain/errors.js';
import { parseIpAddress, prefixContains, type AddressFamily } from '../domain/ip.js';
import { ixLocationId, locationNumber, type Location } from '../domain/location.js';
import { canonicalAddress } from '../domain/session.js';
import type { PeeringDb } from '../peeringdb/peeringdb.js';
import type { NetIxLan } from '../peeringdb/records.js';

/**
 * Where two networks can peer, as PeeringDB tells it: the candidate sessions between OUR network (`local`) and
 * the peer's at every exchange both are at, and for every exchange left out, why.
 *
 * The pairing rule, for one exchange and one address family:
 * - only operational ports count, and only ports with an address of that family;
 * - every such port of ours is paired with every such port of the peer's ("full mesh"), because that is how
 *   networks with several routers on one peering LAN peer: each router with each router, so that losing one
 *   router on either side keeps the peering up. One port each gives one session per family;
 * - an address listed twice (two rows, same address) counts once;
 * - order: exchange id, then IPv4 before IPv6, then PeeringDB's row order on each side (ours, then theirs).
 */

/** One session PeeringDB implies, in our reading. */
export interface CandidateSession {
  location: Location;
  /** The exchange's name as PeeringDB's port rows carry it. */
  name?: string | undefined;
  family: AddressFamily;
  localAsn: number;
  localIp: string;
  peerAsn: number;
  peerIp: string;
}

/** Why an exchange, or one address family or address at it, was left out. */
export type SkipReason =
  | 'not-selected'
  | 'neither-present'
  | 'only-local'
  | 'only-peer'
  | 'local-not-operational'
  | 'peer-not-operational'
  | 'not-offered-by-peer'
  | 'no-common-family'
  | 'family-missing'
  | 'address-not-offered'
  | 'address-invalid'
  | 'outside-prefix';

export interface SkippedLocation {
  location: Location;
  name?: string | undefined;
  /** Set when only one family (or one address) was left out and the exchange still has sessions. */
  family?: AddressFamily | undefined;
  reason: SkipReason;
  message: string;
}

/** A location the peer's `GET /locations` offers, with its own addresses there when it lists them. */
export interface OfferedLocation {
  id: string;
  /** The peer's addresses at that location (the listing's `local_ips`, the server being the peer). */
  localIps?: readonly string[] | undefined;
}

export interface DiscoveryQuery {
  localAsn: number;
  peerAsn: number;
  /** The peer's own `GET /locations` answer: exchanges it does not offer are left out, and so are its addresses it does not list. */
  offered?: readonly OfferedLocation[] | undefined;
  /** Only these exchanges (`pdb:ix:26` or 26). */
  only?: readonly (string | number)[] | undefined;
  /** Only these address families (both by default). */
  families?: readonly AddressFamily[] | undefined;
  /** Check both addresses against the exchange's peering LAN prefixes (one more PeeringDB look-up per exchange). */
  checkPrefixes?: boolean | undefined;
}

export interface Discovery {
  sessions: CandidateSession[];
  skipped: SkippedLocation[];
  /** Exchanges with at least one candidate session. */
  locations: { location: Location; name?: string | undefined; sessions: number }[];
}

/** The ports and prefixes the pairing needs, gathered from any PeeringDB source. */
export interface DiscoveryFacts {
  localPorts: readonly NetIxLan[];
  peerPorts: readonly NetIxLan[];
  /** Peering LAN prefixes by IX id, when checked. */
  prefixes?: ReadonlyMap<number, readonly string[]> | undefined;
}

/**
 * Reads both networks' ports from PeeringDB (two look-ups, whatever the number of exchanges, so the live API's
 * rate limits are respected; prefixes add one per shared exchange when asked for) and pairs them.
 *
 * @example
 * const found = await discoverSessions(await FilePeeringDb.load(dir), { localAsn: 13335, peerAsn: 15169 });
 * console.log(found.sessions.length, found.skipped.filter((s) => s.reason === 'only-peer').length);
 */
export async function discoverSessions(peeringDb: PeeringDb, query: DiscoveryQuery): Promise<Discovery> {
  const [localPorts, peerPorts] = await Promise.all([
    peeringDb.netixlans(query.localAsn),
    peeringDb.netixlans(query.peerAsn),
  ]);
  let prefixes: Map<number, string[]> | undefined;
  if (query.checkPrefixes) {
    prefixes = new Map();
    const shared = new Set(localPorts.map((p) => p.ixlan_id));
    for (const lan of new Set(peerPorts.map((p) => p.ixlan_id).filter((id) => shared.has(id)))) {
      const ix = localPorts.find((p) => p.ixlan_id === lan)?.ix_id ?? lan;
      prefixes.set(
        ix,
        (await peeringDb.prefixes(lan)).map((p) => p.prefix),
      );
    }
  }
  return pairSessions({ localPorts, peerPorts, prefixes }, query);
}

const FAMILIES: readonly AddressFamily[] = ['ipv4', 'ipv6'];

/**
 * The pure part of discovery: ports in, candidate sessions and reasons out (the rule is at the top of this file).
 */
export function pairSessions(facts: DiscoveryFacts, query: DiscoveryQuery): Discovery {
  const local = byExchange(facts.localPorts.filter((p) => p.asn === query.localAsn));
  const peer = byExchange(facts.peerPorts.filter((p) => p.asn === query.peerAsn));
  const only = query.only === undefined ? undefined : new Set(query.only.map(exchangeNumber));
  const offered =
    query.offered === undefined
      ? undefined
      : new Map(
          query.offered
            .filter((o) => o.id.startsWith('pdb:ix:'))
            .map((o) => [
              locationNumber(o.id),
              o.localIps === undefined ? undefined : canonicalSet(o.localIps),
            ]),
        );
  const L = `AS${query.localAsn}`;
  const P = `AS${query.peerAsn}`;

  const sessions: CandidateSession[] = [];
  const skipped: SkippedLocation[] = [];
  const locations: Discovery['locations'] = [];
  const ids = new Set([...local.keys(), ...peer.keys(), ...(only ?? [])]);
  for (const ix of [...ids].sort((a, b) => a - b)) {
    const location: Location = { id: ixLocationId(ix), type: 'public' };
    const ours = local.get(ix) ?? [];
    const theirs = peer.get(ix) ?? [];
    const name = ours[0]?.name ?? theirs[0]?.name ?? undefined;
    const skip = (reason: SkipReason, message: string, family?: AddressFamily) =>
      skipped.push({ location, name, family, reason, message });
    const where = name ? `${name} (${location.id})` : location.id;

    if (only !== undefined && !only.has(ix)) {
      skip('not-selected', `${where} is not among the exchanges asked for`);
      continue;
    }
    if (ours.length === 0 && theirs.length === 0) {
      skip('neither-present', `neither ${L} nor ${P} has a port at ${where} in PeeringDB`);
      continue;
    }
    if (theirs.length === 0) {
      skip('only-local', `${P} has no port at ${where} in PeeringDB (only ${L} has)`);
      continue;
    }
    if (ours.length === 0) {
      skip('only-peer', `${L} has no port at ${where} in PeeringDB (only ${P} has)`);
      continue;
    }
    const ourLive = ours.filter((p) => p.operational);
    const theirLive = theirs.filter((p) => p.operational);
    if (ourLive.length === 0) {
      skip('local-not-operational', `every port of ${L} at ${where} is marked not operational`);
      continue;
    }
    if (theirLive.length === 0) {
      skip('peer-not-operational', `every port of ${P} at ${where} is marked not operational`);
      continue;
    }
    const offeredHere = offered?.get(ix);
    if (offered !== undefined && !offered.has(ix)) {
      skip('not-offered-by-peer', `${P}'s Peering API does not offer ${where} in GET /locations`);
      continue;
    }

    // Notes on single families or addresses; when nothing is left at the exchange they become its reasons.
    const notes: SkippedLocation[] = [];
    const note = (reason: SkipReason, message: string, family: AddressFamily) =>
      notes.push({ location, name, family, reason, message });
    const found: CandidateSession[] = [];
    for (const family of query.families ?? FAMILIES) {
      const invalid = (asn: string) => (raw: string) =>
        note('address-invalid', `${asn}'s ${family} address "${raw}" at ${where} is not an address`, family);
      const mine = addresses(ourLive, family, invalid(L));
      let yours = addresses(theirLive, family, invalid(P));
      if (mine.length === 0 || yours.length === 0) {
        if (mine.length > 0 || yours.length > 0) {
          note('family-missing', `${mine.length === 0 ? L : P} has no ${family} address at ${where}`, family);
        }
        continue;
      }
      if (offeredHere !== undefined) {
        for (const ip of yours.filter((ip) => !offeredHere.has(ip))) {
          note('address-not-offered', `${P} does not list ${ip} at ${where} in GET /locations`, family);
        }
        yours = yours.filter((ip) => offeredHere.has(ip));
      }
      const lan = facts.prefixes?.get(ix)?.filter((p) => p.includes(':') === (family === 'ipv6'));
      const inside = (asn: string) => (ip: string) => {
        if (lan === undefined || lan.length === 0) return true;
        if (lan.some((prefix) => prefixContains(prefix, { address: ip, family }))) return true;
        note(
          'outside-prefix',
          `${asn}'s ${ip} is outside the peering LAN of ${where} (${lan.join(', ')})`,
          family,
        );
        return false;
      };
      const mineInside = mine.filter(inside(L));
      const yoursInside = yours.filter(inside(P));
      for (const localIp of mineInside) {
        for (const peerIp of yoursInside) {
          found.push({
            location,
            name,
            family,
            localAsn: query.localAsn,
            localIp,
            peerAsn: query.peerAsn,
            peerIp,
          });
        }
      }
    }
    if (found.length === 0) {
      const onlyFamilies = notes.every((n) => n.reason === 'family-missing');
      if (onlyFamilies) {
        skip(
          'no-common-family',
          notes.length === 0
            ? `neither ${L} nor ${P} lists an address at ${where}`
            : `${L} and ${P} have no address family in common at ${where} (${notes.map((n) => n.message).join('; ')})`,
        );
      } else {
        skipped.push(...notes.map((n) => ({ ...n, family: undefined })));
      }
      continue;
    }
    skipped.push(...notes);
    sessions.push(...found);
    locations.push({ location, name, sessions: found.length });
  }
  return { sessions, skipped, locations };
}

function byExchange(ports: readonly NetIxLan[]): Map<number, NetIxLan[]> {
  const out = new Map<number, NetIxLan[]>();
  for (const port of [...ports].sort((a, b) => a.id - b.id)) {
    const list = out.get(port.ix_id);
    if (list) list.push(port);
    else out.set(port.ix_id, [port]);
  }
  return out;
}

/** Distinct canonical addresses of one family, in row order; unreadable ones are reported. */
function addresses(
  ports: readonly NetIxLan[],
  family: AddressFamily,
  invalid: (raw: string) => void,
): string[] {
  const out: string[] = [];
  for (const port of ports) {
    const raw = family === 'ipv4' ? port.ipaddr4 : port.ipaddr6;
    if (!raw) continue;
    const parsed = parseIpAddress(raw);
    if (typeof parsed === 'string' || parsed.family !== family) {
      invalid(raw);
      continue;
    }
    if (!out.includes(parsed.address)) out.push(parsed.address);
  }
  return out;
}

function canonicalSet(ips: readonly string[]): Set<string> {
  return new Set(ips.map(canonicalAddress));
}

/** `pdb:ix:26`, `26` or 26 → 26. */
export function exchangeNumber(value: string | number): number {
  if (typeof value === 'number') return value;
  if (/^[1-9]\d{0,9}$/.test(value)) return Number(value);
  if (/^pdb:ix:[1-9]\d{0,9}$/.test(value)) return locationNumber(value);
  throw new PeeringError(
    'INVALID_FIELD',
    `"${value}" is not an exchange: use pdb:ix:<PeeringDB ix id>`,
    'location',
  );
}
