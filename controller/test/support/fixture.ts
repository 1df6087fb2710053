import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a PeeringDB-format folder with one exchange (`pdb:ix:1`, LAN 10.99.0.0/16) where AS64500 and AS64501
 * each have `ports` addresses: enough distinct valid sessions for load and crash tests, which the real
 * sample cannot give for one pair of networks. Addresses: ours 10.99.0.x…, theirs 10.99.100.x….
 */
export function writeLargeIxFixture(dir: string, ports = 250): { ours: string[]; theirs: string[] } {
  mkdirSync(dir, { recursive: true });
  const addresses = (third: number) =>
    Array.from({ length: ports }, (_, i) => `10.99.${third + Math.floor(i / 250)}.${(i % 250) + 1}`);
  const ours = addresses(0);
  const theirs = addresses(100);
  const rows = (asn: number, list: string[]) =>
    list.map((ip, i) => ({
      id: asn * 1000 + i,
      net_id: asn,
      ix_id: 1,
      ixlan_id: 1,
      name: 'Test IX',
      asn,
      ipaddr4: ip,
      ipaddr6: null,
      speed: 100000,
      is_rs_peer: false,
      operational: true,
      status: 'ok',
    }));
  const write = (name: string, data: unknown[]) =>
    writeFileSync(join(dir, `${name}.json`), JSON.stringify({ data, meta: {} }));
  write('net', [
    { id: 64500, asn: 64500, name: 'Us' },
    { id: 64501, asn: 64501, name: 'Them' },
  ]);
  write('ix', [{ id: 1, name: 'Test IX' }]);
  write('ixpfx', [{ id: 1, ixlan_id: 1, protocol: 'IPv4', prefix: '10.99.0.0/16' }]);
  write('netixlan', [...rows(64500, ours), ...rows(64501, theirs)]);
  return { ours, theirs };
}
