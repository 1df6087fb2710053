import { parseIpAddress } from '../domain/ip.js';
import { locationNumber, type Location } from '../domain/location.js';
import type { PeeringDb } from '../peeringdb/peeringdb.js';
import type { NetIxLan } from '../peeringdb/records.js';
import type { LocationFacts } from './policy.js';

/** Gathers from PeeringDB what the policy needs to judge sessions at one location between two networks. */
export async function gatherLocationFacts(
  peeringDb: PeeringDb,
  location: Location,
  ourAsn: number,
  peerAsn: number,
): Promise<LocationFacts> {
  const number = locationNumber(location.id);
  if (location.type === 'private') {
    const [facility, ours, theirs] = await Promise.all([
      peeringDb.facility(number),
      peeringDb.netfacs(ourAsn),
      peeringDb.netfacs(peerAsn),
    ]);
    return {
      location,
      known: facility !== undefined,
      name: facility?.name,
      ourPresent: ours.some((f) => f.fac_id === number),
      ourAddresses: new Set(),
      peerPresent: theirs.some((f) => f.fac_id === number),
      peerAddresses: new Set(),
      prefixes: [],
    };
  }
  const [ix, ours, theirs] = await Promise.all([
    peeringDb.ix(number),
    peeringDb.netixlans(ourAsn),
    peeringDb.netixlans(peerAsn),
  ]);
  const ourPorts = portsAt(ours, number);
  const peerPorts = portsAt(theirs, number);
  // PeeringDB gives each IX exactly one LAN with the same id, but the netixlan row is the authority.
  const ixlanId = ourPorts[0]?.ixlan_id ?? number;
  const prefixes = ix ? (await peeringDb.prefixes(ixlanId)).map((p) => p.prefix) : [];
  return {
    location,
    known: ix !== undefined,
    name: ix?.name,
    ourPresent: ourPorts.length > 0,
    ourAddresses: addressesOf(ourPorts),
    peerPresent: peerPorts.length > 0,
    peerAddresses: addressesOf(peerPorts),
    prefixes,
  };
}

/** A network's operational ports at one IX. */
export function portsAt(ports: readonly NetIxLan[], ixId: number): NetIxLan[] {
  return ports.filter((p) => p.ix_id === ixId && p.operational);
}

/** Canonical addresses of some ports (PeeringDB's text forms vary; comparisons must not). */
export function addressesOf(ports: readonly NetIxLan[]): Set<string> {
  const out = new Set<string>();
  for (const port of ports) {
    for (const raw of [port.ipaddr4, port.ipaddr6]) {
      if (!raw) continue;
      const parsed = parseIpAddress(raw);
      if (typeof parsed !== 'string') out.add(parsed.address);
    }
  }
  return out;
}
