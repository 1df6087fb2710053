import { request } from 'undici';
import { call } from '../support/conformance.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { describeWithSample } from '../support/sample.js';

const CF = {
  token: 'token-cloudflare-admin-0001',
  subject: 'alice@cloudflare',
  networks: [{ asn: 13335, perms: 15 }],
};
const good = {
  local_asn: 15169,
  local_ip: '80.249.208.247',
  peer_asn: 13335,
  peer_ip: '80.249.211.140',
  location: 'pdb:ix:26',
};
const withSession = (patch: Record<string, unknown>) => ({ sessions: [{ ...good, ...patch }] });
const without = (field: keyof typeof good) => {
  const copy: Record<string, unknown> = { ...good };
  delete copy[field];
  return { sessions: [copy] };
};

interface Case {
  name: string;
  method?: string;
  path?: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  /** The field the first error must name. */
  field: string | RegExp;
}

const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

const CASES: Case[] = [
  { name: 'empty object', body: {}, status: 400, field: 'sessions' },
  { name: 'empty array', body: [], status: 400, field: 'sessions' },
  { name: 'null', body: 'null', status: 400, field: 'request' },
  { name: 'a string', body: '"sessions"', status: 400, field: 'request' },
  { name: 'a number', body: '42', status: 400, field: 'request' },
  { name: 'sessions not an array', body: { sessions: 'x' }, status: 400, field: 'sessions' },
  { name: 'session not an object', body: { sessions: [1] }, status: 400, field: 'sessions[0]' },
  {
    name: 'ASN as a string',
    body: withSession({ local_asn: '15169' }),
    status: 400,
    field: 'sessions[0].local_asn',
  },
  { name: 'negative ASN', body: withSession({ peer_asn: -1 }), status: 400, field: 'sessions[0].peer_asn' },
  {
    name: 'ASN above 32 bits',
    body: withSession({ peer_asn: 4294967296 }),
    status: 400,
    field: 'sessions[0].peer_asn',
  },
  {
    name: 'fractional ASN',
    body: withSession({ peer_asn: 1.5 }),
    status: 400,
    field: 'sessions[0].peer_asn',
  },
  {
    name: 'huge number',
    body: '{"sessions":[{"local_asn":1e400}]}',
    status: 400,
    field: 'sessions[0].local_asn',
  },
  { name: 'ASN zero', body: withSession({ local_asn: 0 }), status: 400, field: 'sessions[0].local_asn' },
  { name: 'missing local_asn', body: without('local_asn'), status: 400, field: 'sessions[0].local_asn' },
  { name: 'missing peer_ip', body: without('peer_ip'), status: 400, field: 'sessions[0].peer_ip' },
  { name: 'missing location', body: without('location'), status: 400, field: 'sessions[0].location' },
  {
    name: 'IPv4 octet out of range',
    body: withSession({ local_ip: '300.1.1.1' }),
    status: 400,
    field: 'sessions[0].local_ip',
  },
  {
    name: 'IPv6 with a zone id',
    body: withSession({ local_ip: 'fe80::1%eth0' }),
    status: 400,
    field: 'sessions[0].local_ip',
  },
  {
    name: 'prefix length too long',
    body: withSession({ peer_ip: '80.249.211.140/33' }),
    status: 400,
    field: 'sessions[0].peer_ip',
  },
  {
    name: 'address as a number',
    body: withSession({ peer_ip: 12345 }),
    status: 400,
    field: 'sessions[0].peer_ip',
  },
  { name: 'empty address', body: withSession({ peer_ip: '' }), status: 400, field: 'sessions[0].peer_ip' },
  {
    name: 'overlong address',
    body: withSession({ peer_ip: 'a'.repeat(100) }),
    status: 400,
    field: 'sessions[0].peer_ip',
  },
  {
    name: 'leading zeros in IPv4',
    body: withSession({ peer_ip: '080.249.211.140' }),
    status: 400,
    field: 'sessions[0].peer_ip',
  },
  {
    name: 'IPv4-mapped IPv6 in dotted form',
    body: withSession({ peer_ip: '::ffff:1.2.3.4' }),
    status: 400,
    field: 'sessions[0].peer_ip',
  },
  {
    name: 'location id not numeric',
    body: withSession({ location: 'pdb:ix:abc' }),
    status: 400,
    field: /^sessions\[0\]\.location/,
  },
  {
    name: 'location id zero',
    body: withSession({ location: 'pdb:ix:0' }),
    status: 400,
    field: /^sessions\[0\]\.location/,
  },
  {
    name: 'location of another registry',
    body: withSession({ location: 'euroix:26' }),
    status: 400,
    field: /^sessions\[0\]\.location/,
  },
  {
    name: 'location type contradicting id',
    body: withSession({ location: { id: 'pdb:ix:26', type: 'private' } }),
    status: 400,
    field: 'sessions[0].location.type',
  },
  {
    name: 'location type unknown',
    body: withSession({ location: { id: 'pdb:ix:26', type: 'bogus' } }),
    status: 400,
    field: /^sessions\[0\]\.location/,
  },
  {
    name: 'location as a number',
    body: withSession({ location: 26 }),
    status: 400,
    field: /^sessions\[0\]\.location/,
  },
  {
    name: 'BGP role out of range',
    body: withSession({ local_bgp_role: 5, peer_bgp_role: 4 }),
    status: 400,
    field: 'sessions[0].local_bgp_role',
  },
  {
    name: 'BGP role as a name',
    body: withSession({ local_bgp_role: 'peer' }),
    status: 400,
    field: 'sessions[0].local_bgp_role',
  },
  {
    name: 'only one BGP role',
    body: withSession({ local_bgp_role: 4 }),
    status: 400,
    field: 'sessions[0].peer_bgp_role',
  },
  {
    name: 'insert_asn as a string',
    body: withSession({ local_insert_asn: 'yes' }),
    status: 400,
    field: 'sessions[0].local_insert_asn',
  },
  {
    name: 'both monitoring sessions',
    body: withSession({ local_monitoring_session: true, peer_monitoring_session: true }),
    status: 400,
    field: 'sessions[0].peer_monitoring_session',
  },
  {
    name: 'peer_type in capitals',
    body: withSession({ peer_type: 'PUBLIC' }),
    status: 400,
    field: 'sessions[0].peer_type',
  },
  {
    name: 'empty secret',
    body: withSession({ session_secret: '' }),
    status: 400,
    field: 'sessions[0].session_secret',
  },
  {
    name: 'overlong secret',
    body: withSession({ session_secret: 'x'.repeat(200) }),
    status: 400,
    field: 'sessions[0].session_secret',
  },
  { name: 'empty request_id', body: { request_id: '', sessions: [good] }, status: 400, field: 'request_id' },
  {
    name: 'request_id with spaces',
    body: { request_id: 'a b', sessions: [good] },
    status: 400,
    field: 'request_id',
  },
  {
    name: 'return_url not a URL',
    body: { return_url: 'nope', sessions: [good] },
    status: 400,
    field: 'return_url',
  },
  {
    name: 'return_url with a script scheme',
    body: { return_url: 'javascript:alert(1)', sessions: [good] },
    status: 400,
    field: 'return_url',
  },
  {
    name: '101 sessions',
    body: { sessions: Array.from({ length: 101 }, () => good) },
    status: 400,
    field: 'sessions',
  },
  {
    name: 'duplicate keys',
    body: '{"sessions":[{"local_asn":15169,"local_asn":13335}]}',
    status: 400,
    field: 'sessions[0].local_asn',
  },
  { name: 'duplicate top-level key', body: '{"sessions":[],"sessions":[]}', status: 400, field: 'sessions' },
  {
    name: '__proto__ key',
    body: '{"sessions":[{"__proto__":{"admin":true}}]}',
    status: 400,
    field: 'sessions[0].__proto__',
  },
  {
    name: 'invalid UTF-8',
    body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    status: 400,
    field: 'request',
  },
  { name: 'nesting 10,000 deep', body: deep(10_000), status: 400, field: 'request' },
  {
    name: 'nesting 40 deep inside sessions',
    body: `{"sessions":[${deep(40)}]}`,
    status: 400,
    field: /^sessions/,
  },
  { name: 'truncated JSON', body: '{"sessions":[{"local_asn":15169', status: 400, field: 'request' },
  { name: 'trailing garbage', body: '{"sessions":[]} x', status: 400, field: 'request' },
  { name: 'NaN literal', body: '{"sessions":[{"local_asn":NaN}]}', status: 400, field: 'request' },
  { name: 'single quotes', body: "{'sessions':[]}", status: 400, field: 'request' },
  { name: 'empty body', body: '', status: 400, field: 'request' },
  {
    name: 'a 10 MB body',
    body: `{"sessions":[],"pad":"${'x'.repeat(10 * 1024 * 1024)}"}`,
    status: 413,
    field: 'request',
  },
  {
    name: 'text/plain',
    body: JSON.stringify({ sessions: [good] }),
    headers: { 'content-type': 'text/plain' },
    status: 415,
    field: 'request',
  },
  {
    name: 'form-encoded',
    body: 'sessions=1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    field: 'request',
  },
  {
    name: 'UTF-16 charset',
    body: JSON.stringify({ sessions: [good] }),
    headers: { 'content-type': 'application/json; charset=utf-16' },
    status: 415,
    field: 'content-type',
  },
  // Query and path parameters
  { name: 'asn not a number', method: 'GET', path: '/sessions?asn=abc', status: 400, field: 'asn' },
  { name: 'asn negative', method: 'GET', path: '/sessions?asn=-5', status: 400, field: 'asn' },
  { name: 'asn too large', method: 'GET', path: '/sessions?asn=99999999999', status: 400, field: 'asn' },
  { name: 'asn twice', method: 'GET', path: '/sessions?asn=13335&asn=15169', status: 400, field: 'asn' },
  {
    name: 'max_results above 100',
    method: 'GET',
    path: '/sessions?max_results=101',
    status: 400,
    field: 'max_results',
  },
  {
    name: 'max_results negative',
    method: 'GET',
    path: '/sessions?max_results=-1',
    status: 400,
    field: 'max_results',
  },
  {
    name: 'max_results fractional',
    method: 'GET',
    path: '/sessions?max_results=1.5',
    status: 400,
    field: 'max_results',
  },
  {
    name: 'forged next_token',
    method: 'GET',
    path: '/sessions?next_token=garbage',
    status: 400,
    field: 'next_token',
  },
  {
    name: 'next_token with a forged signature',
    method: 'GET',
    path: '/sessions?next_token=eyJxIjoiYSIsImMiOiIxIn0.AAAA',
    status: 400,
    field: 'next_token',
  },
  {
    name: 'request_id malformed',
    method: 'GET',
    path: '/sessions?request_id=%3Cscript%3E',
    status: 400,
    field: 'request_id',
  },
  {
    name: 'session id not a UUID',
    method: 'GET',
    path: '/sessions/not-a-uuid',
    status: 400,
    field: 'session_id',
  },
  {
    name: 'session id with SQL',
    method: 'GET',
    path: "/sessions/1'%20OR%20'1'='1",
    status: 400,
    field: 'session_id',
  },
  {
    name: 'delete with a bad id',
    method: 'DELETE',
    path: '/sessions/12345',
    status: 400,
    field: 'session_id',
  },
  {
    name: 'location_type unknown',
    method: 'GET',
    path: '/locations?location_type=bogus',
    status: 400,
    field: 'location_type',
  },
  {
    name: 'batch delete without sessions',
    method: 'DELETE',
    path: '/sessions',
    body: {},
    status: 400,
    field: 'sessions',
  },
  {
    name: 'batch delete with a numeric id',
    method: 'DELETE',
    path: '/sessions',
    body: [{ session_id: 5 }],
    status: 400,
    field: 'sessions[0].session_id',
  },
  { name: 'batch delete without a body', method: 'DELETE', path: '/sessions', status: 400, field: 'request' },
  { name: 'PUT on /sessions', method: 'PUT', path: '/sessions', body: [good], status: 405, field: 'request' },
  {
    name: 'PATCH on a session',
    method: 'PATCH',
    path: '/sessions/00000000-0000-4000-8000-000000000000',
    body: {},
    status: 405,
    field: 'request',
  },
];

describeWithSample('malformed requests: 4xx naming the field, never 5xx, nothing written', (sample) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ config: { asns: [15169] }, peeringDbDir: sample, tokens: [CF] });
  });
  afterAll(async () => {
    await api.stop();
  });

  test('there are at least 50 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
  });

  test.each(CASES)(
    '$name → $status',
    async ({ method = 'POST', path = '/sessions', body, headers, status, field }) => {
      const answer = await call<{ errors: { name: string; code: string; errors: string[] }[] }>(
        api.baseUrl,
        method,
        path,
        {
          token: CF.token,
          body,
          headers,
        },
      );
      expect(answer.status).toBe(status);
      const first = answer.body.errors[0];
      expect(first).toBeDefined();
      if (typeof field === 'string') expect(first?.name).toBe(field);
      else expect(first?.name).toMatch(field);
      expect(first?.errors[0]?.length).toBeGreaterThan(0);
      expect(answer.text).not.toMatch(/at .*\.(js|ts):\d+/); // no stack traces
    },
  );

  test('nothing was written by any of them', async () => {
    const list = await call<{ sessions: unknown[] }>(api.baseUrl, 'GET', '/sessions', { token: CF.token });
    expect(list.body.sessions).toEqual([]);
    expect(await api.store.all()).toEqual([]);
  });

  test('a request cut off mid-body does not crash the server or write anything', async () => {
    const payload = JSON.stringify({ sessions: [good] });
    await expect(
      request(`${api.baseUrl}/sessions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${CF.token}`,
          'content-type': 'application/json',
          'content-length': String(payload.length + 100),
        },
        body: payload,
        headersTimeout: 500,
        bodyTimeout: 500,
      }),
    ).rejects.toThrow();
    expect(await api.store.all()).toEqual([]);
    expect((await call(api.origin, 'GET', '/healthz', { conform: false })).status).toBe(200);
  });
});
