import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { discoverSessions, pairSessions, type Discovery } from '../../src/discovery/common-locations.js';
import { FilePeeringDb } from '../../src/peeringdb/files.js';
import { LivePeeringDb } from '../../src/peeringdb/live.js';
import type { NetIxLan } from '../../src/peeringdb/records.js';
import { EXAMPLES_DIR, describeWithSample } from '../support/sample.js';

const CLOUDFLARE = 13335;
const GOOGLE = 15169;

interface RawPort {
  id: number;
  asn: number;
  ix_id: number;
  ipaddr4: string | null;
  ipaddr6: string | null;
  operational: boolean;
  status: string;
}

const key = (s: { location: { id: string }; localIp: string; peerIp: string }) =>
  `${s.location.id} ${s.localIp} ${s.peerIp}`;

describeWithSample('discovery on the real 2022 sample: AS13335 (us) and AS15169', (sample) => {
  let found: Discovery;
  let raw: RawPort[];

  beforeAll(async () => {
    found = await discoverSessions(await FilePeeringDb.load(sample), {
      localAsn: CLOUDFLARE,
      peerAsn: GOOGLE,
    });
    raw = (JSON.parse(readFileSync(join(sample, 'netixlan.json'), 'utf8')) as { data: RawPort[] }).data;
  });

  test('exactly the pairs the raw data implies: every operational port of ours with every one of theirs, per family', () => {
    // Computed straight from the JSON, without the code under test: the sample's addresses are canonical text.
    const live = raw.filter((r) => r.status === 'ok' && r.operational);
    const ports = (asn: number, ix: number) =>
      live.filter((r) => r.asn === asn && r.ix_id === ix).sort((a, b) => a.id - b.id);
    const distinct = (values: (string | null)[]) => [...new Set(values.filter((v): v is string => !!v))];
    const shared = [...new Set(live.filter((r) => r.asn === CLOUDFLARE).map((r) => r.ix_id))]
      .filter((ix) => live.some((r) => r.asn === GOOGLE && r.ix_id === ix))
      .sort((a, b) => a - b);
    expect(shared).toHaveLength(169);
    const expected: string[] = [];
    for (const ix of shared) {
      for (const field of ['ipaddr4', 'ipaddr6'] as const) {
        for (const ours of distinct(ports(CLOUDFLARE, ix).map((p) => p[field]))) {
          for (const theirs of distinct(ports(GOOGLE, ix).map((p) => p[field]))) {
            expected.push(`pdb:ix:${ix} ${ours} ${theirs}`);
          }
        }
      }
    }
    expect(found.sessions.map(key)).toEqual(expected);
    expect(found.locations).toHaveLength(169);
    expect(new Set(found.sessions.map((s) => s.location.id)).size).toBe(169);
    expect(found.sessions.every((s) => s.localAsn === CLOUDFLARE && s.peerAsn === GOOGLE)).toBe(true);
    expect(found.sessions.every((s) => (s.family === 'ipv6') === s.localIp.includes(':'))).toBe(true);
  });

  test('hand-checked exchanges: AMS-IX, Equinix Ashburn, LINX LON1', () => {
    const at = (id: string) =>
      found.sessions.filter((s) => s.location.id === id).map((s) => [s.localIp, s.peerIp]);
    // AMS-IX: Cloudflare has one port, Google two.
    expect(at('pdb:ix:26')).toEqual([
      ['80.249.211.140', '80.249.208.247'],
      ['80.249.211.140', '80.249.209.100'],
      ['2001:7f8:1::a501:3335:1', '2001:7f8:1::a501:5169:1'],
      ['2001:7f8:1::a501:3335:1', '2001:7f8:1::a501:5169:2'],
    ]);
    expect(found.sessions.find((s) => s.location.id === 'pdb:ix:26')?.name).toBe('AMS-IX');
    // Equinix Ashburn: two ports each, four sessions per family.
    expect(at('pdb:ix:1')).toHaveLength(8);
    expect(at('pdb:ix:1')).toContainEqual(['206.126.237.66', '206.126.237.242']);
    expect(at('pdb:ix:1')).toContainEqual(['2001:504:0:2:0:1:3335:1', '2001:504:0:2:0:1:5169:2']);
    // LINX LON1: Cloudflare two ports, Google one.
    expect(at('pdb:ix:18')).toEqual([
      ['195.66.225.179', '195.66.224.125'],
      ['195.66.227.207', '195.66.224.125'],
      ['2001:7f8:4::3417:1', '2001:7f8:4::3b41:1'],
      ['2001:7f8:4::3417:2', '2001:7f8:4::3b41:1'],
    ]);
  });

  test('every exchange left out has a reason, and the reasons match the raw data', () => {
    const ixOf = (asn: number) => new Set(raw.filter((r) => r.asn === asn).map((r) => r.ix_id));
    const ours = ixOf(CLOUDFLARE);
    const theirs = ixOf(GOOGLE);
    const onlyOurs = [...ours].filter((ix) => !theirs.has(ix));
    const onlyTheirs = [...theirs].filter((ix) => !ours.has(ix));
    const reasons = (reason: string) =>
      found.skipped.filter((s) => s.reason === reason).map((s) => s.location.id);
    expect(reasons('only-local').sort()).toEqual(onlyOurs.map((ix) => `pdb:ix:${ix}`).sort());
    expect(reasons('only-peer').sort()).toEqual(onlyTheirs.map((ix) => `pdb:ix:${ix}`).sort());
    // Every exchange either network is at is accounted for exactly once at the exchange level.
    const accounted = [
      ...found.locations.map((l) => l.location.id),
      ...found.skipped.filter((s) => s.family === undefined).map((s) => s.location.id),
    ];
    expect(accounted.sort()).toEqual([...new Set([...ours, ...theirs])].map((ix) => `pdb:ix:${ix}`).sort());
    // Three shared exchanges lack IPv6 on one side: the family is left out with a reason, the exchange is not.
    expect(
      found.skipped.filter((s) => s.reason === 'family-missing').map((s) => [s.location.id, s.family]),
    ).toEqual([
      ['pdb:ix:119', 'ipv6'],
      ['pdb:ix:224', 'ipv6'],
      ['pdb:ix:2149', 'ipv6'],
    ]);
    // At pdb:ix:3149 neither network has IPv6: nothing is left out there, so nothing is reported.
    expect(found.skipped.some((s) => s.location.id === 'pdb:ix:3149')).toBe(false);
    expect(
      found.skipped.find((s) => s.location.id === 'pdb:ix:2149' && s.family === 'ipv6')?.message,
    ).toMatch(/AS13335 has no ipv6 address/);
  });

  test('the live API gives the same answer in two look-ups (a PeeringDB stand-in on loopback)', async () => {
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const asn = Number(url.searchParams.get('asn'));
      const data = url.pathname === '/api/netixlan' ? raw.filter((r) => r.asn === asn) : [];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data, meta: {} }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const live = new LivePeeringDb({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`,
      });
      const viaApi = await discoverSessions(live, { localAsn: CLOUDFLARE, peerAsn: GOOGLE });
      expect(viaApi).toEqual(found);
      expect(asked.sort()).toEqual(['/api/netixlan?asn=13335', '/api/netixlan?asn=15169']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('narrowed by a list of exchanges and by the peer offer; prefix checks find nothing wrong in the sample', async () => {
    const db = await FilePeeringDb.load(sample);
    const narrowed = await discoverSessions(db, {
      localAsn: CLOUDFLARE,
      peerAsn: GOOGLE,
      only: ['pdb:ix:26', 18, 'pdb:ix:1', '999999'],
      offered: [
        { id: 'pdb:ix:26', localIps: ['80.249.208.247', '2001:7f8:1:0::a501:5169:2'] },
        { id: 'pdb:ix:1' },
      ],
      checkPrefixes: true,
    });
    expect(narrowed.sessions.map(key)).toEqual([
      'pdb:ix:1 206.126.237.30 206.126.236.21',
      'pdb:ix:1 206.126.237.30 206.126.237.242',
      'pdb:ix:1 206.126.237.66 206.126.236.21',
      'pdb:ix:1 206.126.237.66 206.126.237.242',
      'pdb:ix:1 2001:504:0:2:0:1:3335:1 2001:504:0:2:0:1:5169:1',
      'pdb:ix:1 2001:504:0:2:0:1:3335:1 2001:504:0:2:0:1:5169:2',
      'pdb:ix:1 2001:504:0:2:0:1:3335:2 2001:504:0:2:0:1:5169:1',
      'pdb:ix:1 2001:504:0:2:0:1:3335:2 2001:504:0:2:0:1:5169:2',
      'pdb:ix:26 80.249.211.140 80.249.208.247',
      'pdb:ix:26 2001:7f8:1::a501:3335:1 2001:7f8:1::a501:5169:2',
    ]);
    const why = (id: string) => narrowed.skipped.filter((s) => s.location.id === id).map((s) => s.reason);
    expect(why('pdb:ix:18')).toEqual(['not-offered-by-peer']);
    expect(why('pdb:ix:26')).toEqual(['address-not-offered', 'address-not-offered']);
    expect(why('pdb:ix:999999')).toEqual(['neither-present']);
    expect(why('pdb:ix:31')).toEqual(['not-selected']);
    expect(narrowed.skipped.some((s) => s.reason === 'outside-prefix')).toBe(false);
  });
});

describe('discovery rules on small data', () => {
  const port = (
    id: number,
    asn: number,
    ix: number,
    v4: string | null,
    v6: string | null,
    operational = true,
  ): NetIxLan => ({
    id,
    net_id: asn,
    ix_id: ix,
    ixlan_id: ix,
    name: `IX ${ix}`,
    asn,
    ipaddr4: v4,
    ipaddr6: v6,
    operational,
  });

  test('not-operational ports, unreadable and duplicate addresses, addresses outside the LAN', () => {
    const found = pairSessions(
      {
        localPorts: [
          port(1, 64501, 1, '192.0.2.2', '2001:db8:1::2'),
          port(2, 64501, 1, '192.0.2.2', null), // the same address twice counts once
          port(3, 64501, 2, '198.51.100.2', null, false),
          port(4, 64501, 3, '203.0.113.9', 'not-an-address'),
          port(5, 64501, 4, '192.0.2.77', null),
        ],
        peerPorts: [
          port(11, 64500, 1, '192.0.2.1', '2001:DB8:1:0::1'),
          port(12, 64500, 2, '198.51.100.1', null),
          port(13, 64500, 3, '203.0.113.1', '2001:db8:3::1'),
          port(14, 64500, 4, '198.51.100.200', null),
          port(15, 64500, 5, '192.0.2.5', null, false),
        ],
        prefixes: new Map([[4, ['192.0.2.0/24']]]),
      },
      { localAsn: 64501, peerAsn: 64500 },
    );
    expect(found.sessions.map((s) => `${s.location.id} ${s.family} ${s.localIp} ${s.peerIp}`)).toEqual([
      'pdb:ix:1 ipv4 192.0.2.2 192.0.2.1',
      'pdb:ix:1 ipv6 2001:db8:1::2 2001:db8:1::1',
      'pdb:ix:3 ipv4 203.0.113.9 203.0.113.1',
    ]);
    expect(found.skipped.map((s) => [s.location.id, s.reason, s.family])).toEqual([
      ['pdb:ix:2', 'local-not-operational', undefined],
      ['pdb:ix:3', 'address-invalid', 'ipv6'],
      ['pdb:ix:3', 'family-missing', 'ipv6'],
      ['pdb:ix:4', 'outside-prefix', undefined],
      ['pdb:ix:5', 'only-peer', undefined],
    ]);
    expect(found.skipped[3]?.message).toBe(
      "AS64500's 198.51.100.200 is outside the peering LAN of IX 4 (pdb:ix:4) (192.0.2.0/24)",
    );
  });

  test('no family in common is one reason for the exchange', () => {
    const found = pairSessions(
      {
        localPorts: [port(1, 64501, 7, '192.0.2.2', null)],
        peerPorts: [port(2, 64500, 7, null, '2001:db8::1')],
      },
      { localAsn: 64501, peerAsn: 64500 },
    );
    expect(found.sessions).toEqual([]);
    expect(found.skipped.map((s) => s.reason)).toEqual(['no-common-family']);
    expect(found.skipped[0]?.message).toContain('AS64501 has no ipv6 address');
  });

  test('our own fixture through FilePeeringDb, prefixes checked', async () => {
    const found = await discoverSessions(await FilePeeringDb.load(join(EXAMPLES_DIR, 'peeringdb')), {
      localAsn: 64501,
      peerAsn: 64500,
      checkPrefixes: true,
    });
    expect(found.sessions.map(key)).toEqual([
      'pdb:ix:1 192.0.2.2 192.0.2.1',
      'pdb:ix:1 2001:db8:1::2 2001:db8:1::1',
      'pdb:ix:2 198.51.100.2 198.51.100.1',
    ]);
    expect(found.skipped.map((s) => [s.location.id, s.reason, s.family])).toEqual([
      ['pdb:ix:2', 'family-missing', 'ipv6'],
    ]);
  });
});
