import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PeeringError } from '../domain/errors.js';
import type { PeeringDb } from './peeringdb.js';
import {
  readEnvelope,
  type ObjectName,
  type RecordOf,
  type Fac,
  type Ix,
  type IxPfx,
  type Net,
  type NetFac,
  type NetIxLan,
} from './records.js';

/**
 * PeeringDB from a folder of API dumps (`net.json`, `netixlan.json`, `ix.json`, `ixpfx.json`, `netfac.json`,
 * `fac.json`, each `{"data": [...]}` as `GET /api/<object>` answers). Missing files count as empty, so a
 * fixture may leave out what it does not need.
 */
export class FilePeeringDb implements PeeringDb {
  private constructor(
    private readonly nets: Map<number, Net>,
    private readonly portsByAsn: Map<number, NetIxLan[]>,
    private readonly ixes: Map<number, Ix>,
    private readonly prefixesByLan: Map<number, IxPfx[]>,
    private readonly facsByAsn: Map<number, NetFac[]>,
    private readonly facs: Map<number, Fac>,
  ) {}

  static async load(directory: string): Promise<FilePeeringDb> {
    const [nets, ports, ixes, prefixes, netfacs, facs] = await Promise.all([
      readObjects(directory, 'net'),
      readObjects(directory, 'netixlan'),
      readObjects(directory, 'ix'),
      readObjects(directory, 'ixpfx'),
      readObjects(directory, 'netfac'),
      readObjects(directory, 'fac'),
    ]);
    return new FilePeeringDb(
      new Map(nets.map((n) => [n.asn, n])),
      groupBy(ports, (p) => p.asn),
      new Map(ixes.map((i) => [i.id, i])),
      groupBy(prefixes, (p) => p.ixlan_id),
      groupBy(netfacs, (f) => f.local_asn),
      new Map(facs.map((f) => [f.id, f])),
    );
  }

  async network(asn: number) {
    return this.nets.get(asn);
  }
  async netixlans(asn: number) {
    return this.portsByAsn.get(asn) ?? [];
  }
  async ix(ixId: number) {
    return this.ixes.get(ixId);
  }
  async prefixes(ixlanId: number) {
    return this.prefixesByLan.get(ixlanId) ?? [];
  }
  async netfacs(asn: number) {
    return this.facsByAsn.get(asn) ?? [];
  }
  async facility(facId: number) {
    return this.facs.get(facId);
  }
}

async function readObjects<O extends ObjectName>(directory: string, object: O): Promise<RecordOf<O>[]> {
  const path = join(directory, `${object}.json`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const read = readEnvelope(object, JSON.parse(text));
  if ('problem' in read)
    throw new PeeringError('INVALID_CONFIG', `${path}: ${read.problem}`, 'peeringdb.dataDir');
  return read.records;
}

function groupBy<T>(rows: T[], key: (row: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}
