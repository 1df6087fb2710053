import { fetch, request } from 'undici';
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

/** A `POST /sessions` body answered 400, naming `field`. */
const bad = (name: string, body: unknown, field: string | RegExp): Case => ({
  name,
  body,
  status: 400,
  field,
});

/** A body of a type we do not take: 415, naming `field`. */
const unsupported = (name: string, body: unknown, contentType: string, field: string): Case => ({
  name,
  body,
  headers: { 'content-type': contentType },
  status: 415,
  field,
});

/** A `GET` answered 400, naming `field`. */
const badQuery = (name: string, path: string, field: string | RegExp): Case => ({
  name,
  method: 'GET',
  path,
  status: 400,
  field,
});

const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

const CASES: Case[] = [
  bad('empty object', {}, 'sessions'),
  bad('empty array', [], 'sessions'),
  bad('null', 'null', 'request'),
  bad('a string', '"sessions"', 'request'),
  bad('a number', '42', 'request'),
  bad('sessions not an array', { sessions: 'x' }, 'sessions'),
  bad('session not an object', { sessions: [1] }, 'sessions[0]'),
  bad('ASN as a string', withSession({ local_asn: '15169' }), 'sessions[0].local_asn'),
  bad('negative ASN', withSession({ peer_asn: -1 }), 'sessions[0].peer_asn'),
  bad('ASN above 32 bits', withSession({ peer_asn: 4294967296 }), 'sessions[0].peer_asn'),
  bad('fractional ASN', withSession({ peer_asn: 1.5 }), 'sessions[0].peer_asn'),
  bad('huge number', '{"sessions":[{"local_asn":1e400}]}', 'sessions[0].local_asn'),
  bad('ASN zero', withSession({ local_asn: 0 }), 'sessions[0].local_asn'),
  bad('missing local_asn', without('local_asn'), 'sessions[0].local_asn'),
  bad('missing peer_ip', without('peer_ip'), 'sessions[0].peer_ip'),
  bad('missing location', without('location'), 'sessions[0].location'),
  bad('IPv4 octet out of range', withSession({ local_ip: '300.1.1.1' }), 'sessions[0].local_ip'),
  bad('IPv6 with a zone id', withSession({ local_ip: 'fe80::1%eth0' }), 'sessions[0].local_ip'),
  bad('prefix length too long', withSession({ peer_ip: '80.249.211.140/33' }), 'sessions[0].peer_ip'),
  bad('address as a number', withSession({ peer_ip: 12345 }), 'sessions[0].peer_ip'),
  bad('empty address', withSession({ peer_ip: '' }), 'sessions[0].peer_ip'),
  bad('overlong address', withSession({ peer_ip: 'a'.repeat(100) }), 'sessions[0].peer_ip'),
  bad('leading zeros in IPv4', withSession({ peer_ip: '080.249.211.140' }), 'sessions[0].peer_ip'),
  bad('IPv4-mapped IPv6 in dotted form', withSession({ peer_ip: '::ffff:1.2.3.4' }), 'sessions[0].peer_ip'),
  bad('location id not numeric', withSession({ location: 'pdb:ix:abc' }), /^sessions\[0\]\.location/),
  bad('location id zero', withSession({ location: 'pdb:ix:0' }), /^sessions\[0\]\.location/),
  bad('location of another registry', withSession({ location: 'euroix:26' }), /^sessions\[0\]\.location/),
  bad(
    'location type contradicting id',
    withSession({ location: { id: 'pdb:ix:26', type: 'private' } }),
    'sessions[0].location.type',
  ),
  bad(
    'location type unknown',
    withSession({ location: { id: 'pdb:ix:26', type: 'bogus' } }),
    /^sessions\[0\]\.location/,
  ),
  bad('location as a number', withSession({ location: 26 }), /^sessions\[0\]\.location/),
  bad(
    'BGP role out of range',
    withSession({ local_bgp_role: 5, peer_bgp_role: 4 }),
    'sessions[0].local_bgp_role',
  ),
  bad('BGP role as a name', withSession({ local_bgp_role: 'peer' }), 'sessions[0].local_bgp_role'),
  bad('only one BGP role', withSession({ local_bgp_role: 4 }), 'sessions[0].peer_bgp_role'),
  bad('insert_asn as a string', withSession({ local_insert_asn: 'yes' }), 'sessions[0].local_insert_asn'),
  bad(
    'both monitoring sessions',
    withSession({ local_monitoring_session: true, peer_monitoring_session: true }),
    'sessions[0].peer_monitoring_session',
  ),
  bad('peer_type in capitals', withSession({ peer_type: 'PUBLIC' }), 'sessions[0].peer_type'),
  bad('empty secret', withSession({ session_secret: '' }), 'sessions[0].session_secret'),
  bad('overlong secret', withSession({ session_secret: 'x'.repeat(200) }), 'sessions[0].session_secret'),
  // What a router cannot be given is refused here, not after approval (issue 14): quotes, backslashes, NUL.
  bad(
    'a secret with a quote and a backslash',
    withSession({ session_secret: 'a"b\\c' }),
    'sessions[0].session_secret',
  ),
  bad(
    'a secret with a NUL byte',
    withSession({ session_secret: 'abc\u0000def' }),
    'sessions[0].session_secret',
  ),
  bad('a secret with a newline', withSession({ md5: 'abc\ndef' }), 'sessions[0].md5'),
  // FRR takes a password as one word: a space would end it and start another command's argument.
  bad('a secret with a space', withSession({ session_secret: 's3cret word' }), 'sessions[0].session_secret'),
  bad('empty request_id', { request_id: '', sessions: [good] }, 'request_id'),
  bad('request_id with spaces', { request_id: 'a b', sessions: [good] }, 'request_id'),
  bad('return_url not a URL', { return_url: 'nope', sessions: [good] }, 'return_url'),
  bad(
    'return_url with a script scheme',
    { return_url: 'javascript:alert(1)', sessions: [good] },
    'return_url',
  ),
  bad(
    'return_url with credentials in it',
    { return_url: 'https://as13335:secret@peering.example.net/v0.1', sessions: [good] },
    'return_url',
  ),
  bad('101 sessions', { sessions: Array.from({ length: 101 }, () => good) }, 'sessions'),
  bad('duplicate keys', '{"sessions":[{"local_asn":15169,"local_asn":13335}]}', 'sessions[0].local_asn'),
  bad('duplicate top-level key', '{"sessions":[],"sessions":[]}', 'sessions'),
  bad('__proto__ key', '{"sessions":[{"__proto__":{"admin":true}}]}', 'sessions[0].__proto__'),
  bad('invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 'request'),
  bad('nesting 10,000 deep', deep(10_000), 'request'),
  bad('nesting 40 deep inside sessions', `{"sessions":[${deep(40)}]}`, /^sessions/),
  bad('truncated JSON', '{"sessions":[{"local_asn":15169', 'request'),
  bad('trailing garbage', '{"sessions":[]} x', 'request'),
  bad('NaN literal', '{"sessions":[{"local_asn":NaN}]}', 'request'),
  bad('single quotes', "{'sessions':[]}", 'request'),
  bad('empty body', '', 'request'),
  {
    name: 'a 10 MB body',
    body: `{"sessions":[],"pad":"${'x'.repeat(10 * 1024 * 1024)}"}`,
    status: 413,
    field: 'request',
  },
  unsupported('text/plain', JSON.stringify({ sessions: [good] }), 'text/plain', 'request'),
  unsupported('form-encoded', 'sessions=1', 'application/x-www-form-urlencoded', 'request'),
  unsupported(
    'UTF-16 charset',
    JSON.stringify({ sessions: [good] }),
    'application/json; charset=utf-16',
    'content-type',
  ),
  // Query and path parameters
  badQuery('asn not a number', '/sessions?asn=abc', 'asn'),
  badQuery('asn negative', '/sessions?asn=-5', 'asn'),
  badQuery('asn too large', '/sessions?asn=99999999999', 'asn'),
  badQuery('asn twice', '/sessions?asn=13335&asn=15169', 'asn'),
  badQuery('max_results above 100', '/sessions?max_results=101', 'max_results'),
  badQuery('max_results negative', '/sessions?max_results=-1', 'max_results'),
  badQuery('max_results fractional', '/sessions?max_results=1.5', 'max_results'),
  badQuery('forged next_token', '/sessions?next_token=garbage', 'next_token'),
  badQuery(
    'next_token with a forged signature',
    '/sessions?next_token=eyJxIjoiYSIsImMiOiIxIn0.AAAA',
    'next_token',
  ),
  badQuery('request_id malformed', '/sessions?request_id=%3Cscript%3E', 'request_id'),
  badQuery('session id not a UUID', '/sessions/not-a-uuid', 'session_id'),
  badQuery('session id with SQL', "/sessions/1'%20OR%20'1'='1", 'session_id'),
  {
    name: 'delete with a bad id',
    method: 'DELETE',
    path: '/sessions/12345',
    status: 400,
    field: 'session_id',
  },
  badQuery('location_type unknown', '/locations?location_type=bogus', 'location_type'),
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
  // Route first (issue 14): the body of a request no route takes is never read, whatever it is.
  {
    name: 'PUT on /sessions with a broken JSON body',
    method: 'PUT',
    path: '/sessions',
    body: '{"sessions":',
    status: 405,
    field: 'request',
  },
  {
    name: 'QUERY on /sessions with a body of no type',
    method: 'QUERY',
    path: '/sessions',
    body: 'x',
    headers: { 'content-type': 'text/plain' },
    status: 405,
    field: 'request',
  },
  // Content negotiation: the API answers JSON only, so a client that cannot read it is told so.
  {
    name: 'Accept: text/html',
    method: 'GET',
    path: '/sessions',
    headers: { accept: 'text/html' },
    status: 406,
    field: 'accept',
  },
  {
    name: 'Accept refusing JSON by weight',
    method: 'GET',
    path: '/sessions/00000000-0000-4000-8000-000000000000',
    headers: { accept: 'application/json;q=0, text/plain' },
    status: 406,
    field: 'accept',
  },
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

  test('paths beside ours are 404 whatever the method and body, before any body is read', async () => {
    for (const [method, path] of [
      ['QUERY', '/nothing'],
      ['POST', '/v0.1/sessions'],
      ['GET', '/v0.1/sessions'],
      ['GET', '/sessions/x/y'],
    ] as const) {
      const answer = await request(`${api.baseUrl}${path}`, {
        method: method as 'GET',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${CF.token}` },
        body: method === 'GET' ? undefined : '{"broken',
      });
      const body = (await answer.body.json()) as { errors: { code: string }[] };
      expect([method, path, answer.statusCode, body.errors[0]?.code]).toEqual([
        method,
        path,
        404,
        'NOT_FOUND',
      ]);
    }
  });

  test('JSON is acceptable however the client says so', async () => {
    for (const accept of [
      'application/json',
      '*/*',
      'application/*',
      'text/html, */*;q=0.1',
      'APPLICATION/JSON',
    ]) {
      const answer = await call(api.baseUrl, 'GET', '/sessions', { token: CF.token, headers: { accept } });
      expect([accept, answer.status]).toEqual([accept, 200]);
    }
  });

  test('an over-limit body is answered 413 and the client reads it (undici fetch, as our client sends)', async () => {
    // The server reads and drops the rest of the body before closing (RFC 9112 §9.6): closing at once resets
    // the connection under a client still sending, which then sees EPIPE instead of the answer.
    const body = `{"sessions":[],"pad":"${'x'.repeat(11 * 1024 * 1024)}"}`;
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      try {
        const answer = await fetch(`${api.baseUrl}/sessions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${CF.token}`, 'content-type': 'application/json' },
          body,
        });
        const parsed = (await answer.json()) as { errors: { code: string }[] };
        outcomes.push(`${answer.status} ${parsed.errors[0]?.code}`);
      } catch (error) {
        outcomes.push(String((error as { cause?: { code?: string } }).cause?.code ?? error));
      }
    }
    expect(outcomes).toEqual(Array(8).fill('413 BODY_TOO_LARGE'));
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
