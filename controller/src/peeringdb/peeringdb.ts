import type { Fac, Ix, IxPfx, Net, NetFac, NetIxLan } from './records.js';

/**
 * Read access to PeeringDB, whatever backs it (a folder of API dumps or the live API).
 * Everything is asynchronous because the live source fetches on demand.
 */
export interface PeeringDb {
  network(asn: number): Promise<Net | undefined>;
  /** Every port of a network on any IX LAN (several rows per IX are normal). */
  netixlans(asn: number): Promise<NetIxLan[]>;
  ix(ixId: number): Promise<Ix | undefined>;
  /** The peering LAN prefixes of an IX LAN. */
  prefixes(ixlanId: number): Promise<IxPfx[]>;
  netfacs(asn: number): Promise<NetFac[]>;
  facility(facId: number): Promise<Fac | undefined>;
}
