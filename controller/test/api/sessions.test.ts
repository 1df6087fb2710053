import { call } from '../support/conformance.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { describeWithSample } from '../support/sample.js';

// The receiving network is Google (AS15169); Cloudflare (AS13335) requests sessions. Real 2022 PeeringDB data.
const CF = {
  token: 'token-cloudflare-admin-0001',
  subject: 'alice@cloudflare',
  networks: [{ asn: 13335, perms: 15 }],
};
const CF_READONLY = {
  token: 'token-cloudflare-reader-001',
  subject: 'bob@cloudflare',
  networks: [{ asn: 13335, perms: 1 }],
};
const META = {
  token: 'token-meta-admin-000000001',
  subject: 'carol@meta',
  networks: [{ asn: 32934, perms: 15 }],
};

const AMS_IX = { id: 'pdb:ix:26', type: 'public' };
const DECIX = { id: 'pdb:ix:31', type: 'public' };
const amsV4 = {
  local_asn: 15169,
  local_ip: '80.249.208.247',
  peer_asn: 13335,
  peer_ip: '80.249.211.140',
  location: AMS_IX,
};
const amsV6 = {
  local_asn: 15169,
  local_ip: '2001:7f8:1::a501:5169:1',
  peer_asn: 13335,
  peer_ip: '2001:7f8:1::a501:3335:1',
  location: AMS_IX,
};

type Answer = {
  request_id: string;
  sessions: Record<string, unknown>[];
  errors: { name: string; code: string; errors: string[] }[];
};

describeWithSample('Peering API sessions (AS13335 asks AS15169)', (sample) => {
  let api: TestApi;
  const post = (body: unknown, token = CF.token) =>
    call<Answer>(api.baseUrl, 'POST', '/sessions', { token, body });

  beforeEach(async () => {
    api = await startTestApi({
      config: { asns: [15169] },
      peeringDbDir: sample,
      tokens: [CF, CF_READONLY, META],
    });
  });
  afterEach(async () => {
    await api.stop();
  });

  test('sessions at AMS-IX with the real addresses of both networks are accepted and approved', async () => {
    const answer = await post({ sessions: [amsV4, amsV6] });
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toEqual([]);
    expect(answer.body.sessions).toHaveLength(2);
    expect(answer.body.sessions[0]).toMatchObject({ ...amsV4, status: 'approved', peer_type: 'public' });
    expect(answer.body.sessions[1]).toMatchObject({ ...amsV6, status: 'approved' });
    const id = answer.body.sessions[0]!.session_id as string;
    const one = await call(api.baseUrl, 'GET', `/sessions/${id}`, { token: CF.token });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(answer.body.sessions[0]);
    const list = await call<{ sessions: unknown[] }>(api.baseUrl, 'GET', '/sessions?asn=13335', {
      token: CF.token,
    });
    expect(list.body.sessions).toEqual(answer.body.sessions);
    const byRequest = await call<{ sessions: unknown[] }>(
      api.baseUrl,
      'GET',
      `/sessions?request_id=${answer.body.request_id}`,
      {
        token: CF.token,
      },
    );
    expect(byRequest.body.sessions).toHaveLength(2);
  });

  test('a peer_ip that belongs to another member of the IX is rejected with the reason', async () => {
    const answer = await post([{ ...amsV4, peer_ip: '80.249.209.115' }]); // Meta's port at AMS-IX
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      {
        name: 'sessions[0].peer_ip',
        code: 'PEER_IP_NOT_REGISTERED',
        errors: [expect.stringContaining('80.249.209.115 is not registered to AS13335 at AMS-IX')],
      },
    ]);
    expect(answer.body.errors[0]!.errors[0]).toContain('80.249.211.140');
  });

  test('an IPv4/IPv6 mix is rejected', async () => {
    const answer = await post([{ ...amsV4, peer_ip: amsV6.peer_ip }]);
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e) => [e.name, e.code])).toContainEqual([
      'sessions[0].peer_ip',
      'ADDRESS_FAMILY_MISMATCH',
    ]);
  });

  test('a batch of 5 with 2 bad gives 3 accepted and 2 errors named by index', async () => {
    const answer = await post({
      sessions: [
        amsV4,
        { ...amsV4, local_ip: '80.249.209.100', peer_ip: '80.249.209.115' },
        { ...amsV4, local_ip: '80.249.209.100' },
        { ...amsV6, local_bgp_role: 0, peer_bgp_role: 4 },
        {
          local_asn: 15169,
          local_ip: '80.81.192.108',
          peer_asn: 13335,
          peer_ip: '80.81.194.180',
          location: DECIX,
        },
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.sessions).toHaveLength(3);
    expect(answer.body.sessions.map((s) => s.local_ip)).toEqual([
      '80.249.208.247',
      '80.249.209.100',
      '80.81.192.108',
    ]);
    expect(answer.body.errors.map((e) => [e.name, e.code])).toEqual([
      ['sessions[1].peer_ip', 'PEER_IP_NOT_REGISTERED'],
      ['sessions[3].peer_bgp_role', 'ROLE_MISMATCH'],
    ]);
    const ids = new Set(answer.body.sessions.map((s) => s.session_id));
    expect(ids.size).toBe(3);
  });

  test('the flipped reading (local = initiator) is accepted and answered in kind', async () => {
    const flipped = {
      local_asn: 13335,
      local_ip: '80.249.211.140',
      peer_asn: 15169,
      peer_ip: '80.249.208.247',
      local_bgp_role: 4,
      peer_bgp_role: 4,
      location: 'pdb:ix:26',
    };
    const answer = await post([flipped]);
    expect(answer.status).toBe(200);
    expect(answer.body.sessions[0]).toMatchObject({ ...flipped, location: AMS_IX });
    // Stored in the server's reading: a GET answers local = server.
    const stored = await call(
      api.baseUrl,
      'GET',
      `/sessions/${answer.body.sessions[0]!.session_id as string}`,
      { token: CF.token },
    );
    expect(stored.body).toMatchObject({ local_asn: 15169, peer_asn: 13335, local_ip: '80.249.208.247' });
    // A bad field in the flipped reading is named in that reading.
    const bad = await post([{ ...flipped, local_ip: '80.249.209.115' }]);
    expect(bad.body.errors[0]?.name).toBe('sessions[0].local_ip');
  });

  test('neither or both ASNs ours is a 400 naming local_asn', async () => {
    const neither = await post([{ ...amsV4, local_asn: 64500 }]);
    expect(neither.status).toBe(400);
    expect(neither.body.errors[0]).toMatchObject({ name: 'sessions[0].local_asn', code: 'ASN_NOT_OURS' });
  });

  test('a caller that does not hold the ASN, or holds it read-only, gets 403', async () => {
    const foreign = await post([amsV4], META.token);
    expect(foreign.status).toBe(403);
    expect(foreign.body.errors[0]?.code).toBe('FORBIDDEN_ASN');
    const readOnly = await post([amsV4], CF_READONLY.token);
    expect(readOnly.status).toBe(403);
    const listForeign = await call(api.baseUrl, 'GET', '/sessions?asn=13335', { token: META.token });
    expect(listForeign.status).toBe(403);
  });

  test('location checks: unknown, not shared, and our address', async () => {
    const unknown = await post([{ ...amsV4, location: 'pdb:ix:999999' }]);
    expect(unknown.body.errors[0]).toMatchObject({ name: 'sessions[0].location', code: 'LOCATION_UNKNOWN' });
    const notOurs = await post([{ ...amsV4, local_ip: '80.249.211.161' }]);
    expect(notOurs.body.errors[0]).toMatchObject({ name: 'sessions[0].local_ip', code: 'LOCAL_IP_NOT_OURS' });
    const outside = await post([{ ...amsV4, local_ip: '10.0.0.1' }]);
    expect(outside.body.errors.map((e) => e.code)).toEqual(['LOCAL_IP_NOT_OURS', 'PEER_IP_OUTSIDE_PREFIX']);
    const typeClash = await post([{ ...amsV4, peer_type: 'private' }]);
    expect(typeClash.body.errors[0]).toMatchObject({
      name: 'sessions[0].peer_type',
      code: 'LOCATION_TYPE_MISMATCH',
    });
  });

  test('addresses that can never be BGP endpoints are refused with the field named, private and public alike (issue 14)', async () => {
    const facilities = await call<{ locations: { id: string }[] }>(
      api.baseUrl,
      'GET',
      '/locations?location_type=private&max_results=1',
      { token: CF.token },
    );
    const facility = { id: facilities.body.locations[0]!.id, type: 'private' };
    const privately = { ...amsV4, location: facility, peer_type: 'private' };
    const v6 = { ...privately, local_ip: '2001:db8::1', peer_ip: '2001:db8::2' };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...privately, local_ip: '0.0.0.0' }, 'local_ip'],
      [{ ...privately, peer_ip: '127.0.0.1' }, 'peer_ip'],
      [{ ...privately, peer_ip: '224.0.0.5' }, 'peer_ip'],
      [{ ...privately, peer_ip: '169.254.0.1' }, 'peer_ip'],
      [{ ...v6, local_ip: '::' }, 'local_ip'],
      [{ ...v6, peer_ip: '::1' }, 'peer_ip'],
      [{ ...v6, peer_ip: 'fe80::1' }, 'peer_ip'],
      [{ ...v6, peer_ip: 'ff02::1' }, 'peer_ip'],
      [{ ...privately, peer_ip: privately.local_ip }, 'peer_ip'],
      [{ ...amsV4, peer_ip: '127.0.0.1' }, 'peer_ip'],
    ];
    const answer = await post(cases.map(([session]) => session));
    // Nothing accepted: the whole request is refused (docs/api.md), each error on its field.
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e) => [e.name, e.code])).toEqual(
      cases.map(([, field], i) => [`sessions[${i}].${field}`, 'UNUSABLE_ADDRESS']),
    );
    expect(answer.body.errors[1]!.errors[0]).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect(await api.store.all()).toEqual([]);
    // Ordinary addresses at the same facility are accepted (pending: a cross-connect needs people).
    const fine = await post([{ ...privately, local_ip: '198.51.100.1', peer_ip: '198.51.100.2' }]);
    expect(fine.body.errors).toEqual([]);
    expect(fine.body.sessions[0]).toMatchObject({ status: 'pending' });
  });

  test('the same POST twice gives the same session ids, also with a client request_id', async () => {
    const first = await post({ sessions: [amsV4, amsV6] });
    const second = await post({ sessions: [amsV6, amsV4] });
    expect(second.status).toBe(200);
    expect(second.body.sessions.map((s) => s.session_id)).toEqual([
      first.body.sessions[1]!.session_id,
      first.body.sessions[0]!.session_id,
    ]);
    const withId = await post({
      request_id: 'retry-me-1',
      sessions: [{ ...amsV4, local_ip: '80.249.209.100' }],
    });
    const retried = await post({
      request_id: 'retry-me-1',
      sessions: [{ ...amsV4, local_ip: '80.249.209.100' }],
    });
    expect(retried.body.request_id).toBe(withId.body.request_id);
    expect(retried.body.sessions).toEqual(withId.body.sessions);
    const listed = await call<{ sessions: unknown[] }>(
      api.baseUrl,
      'GET',
      '/sessions?request_id=retry-me-1',
      { token: CF.token },
    );
    expect(listed.body.sessions).toHaveLength(1);
  });

  test('a server restart between two identical POSTs changes nothing', async () => {
    const first = await post({ request_id: 'restart-1', sessions: [amsV4, amsV6] });
    await api.stop({ keepData: true });
    api = await startTestApi({
      config: { asns: [15169] },
      peeringDbDir: sample,
      tokens: [CF],
      dataDir: api.dataDir,
    });
    const again = await post({ request_id: 'restart-1', sessions: [amsV4, amsV6] });
    expect(again.body).toEqual(first.body);
    const byKey = await post({ sessions: [amsV4] });
    expect(byKey.body.sessions[0]!.session_id).toBe(first.body.sessions[0]!.session_id);
    const list = await call<{ sessions: unknown[] }>(api.baseUrl, 'GET', '/sessions', { token: CF.token });
    expect(list.body.sessions).toHaveLength(2);
  });

  test('session_secret (and its md5 alias) is accepted but never returned', async () => {
    const answer = await post([{ ...amsV4, session_secret: 'very-secret-value' }]);
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain('very-secret-value');
    const list = await call(api.baseUrl, 'GET', '/sessions', { token: CF.token });
    expect(list.text).not.toContain('very-secret-value');
    expect(list.text).not.toContain('session_secret');
  });

  test('DELETE one session: 204, then 404 for reads and for a second delete', async () => {
    const created = await post([amsV4]);
    const id = created.body.sessions[0]!.session_id as string;
    const removed = await call(api.baseUrl, 'DELETE', `/sessions/${id}`, { token: CF.token });
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    expect((await call(api.baseUrl, 'GET', `/sessions/${id}`, { token: CF.token })).status).toBe(404);
    expect((await call(api.baseUrl, 'DELETE', `/sessions/${id}`, { token: CF.token })).status).toBe(404);
    // The natural key is free again: a new request makes a new session.
    const again = await post([amsV4]);
    expect(again.body.sessions[0]!.session_id).not.toBe(id);
  });

  test('batch DELETE answers deleted sessions and per-item errors', async () => {
    const created = await post([amsV4, amsV6]);
    const ids = created.body.sessions.map((s) => s.session_id as string);
    const answer = await call<{
      sessions: { session_id: string }[];
      errors: { name: string; code: string }[];
    }>(api.baseUrl, 'DELETE', '/sessions', {
      token: CF.token,
      body: {
        sessions: [{ session_id: ids[0] }, { session_id: '00000000-0000-4000-8000-000000000000' }],
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.sessions.map((s) => s.session_id)).toEqual([ids[0]]);
    expect(answer.body.errors.map((e) => [e.name, e.code])).toEqual([
      ['sessions[1].session_id', 'SESSION_NOT_FOUND'],
    ]);
    // A malformed id is a malformed request: 400 naming it, and nothing of the request is removed.
    const malformed = await call<{ errors: { name: string; code: string }[] }>(
      api.baseUrl,
      'DELETE',
      '/sessions',
      {
        token: CF.token,
        body: { sessions: [{ session_id: ids[1] }, { session_id: 'nope' }] },
      },
    );
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0]).toMatchObject({
      name: 'sessions[1].session_id',
      code: 'INVALID_SESSION_ID',
    });
    const left = await call<{ sessions: { session_id: string }[] }>(api.baseUrl, 'GET', '/sessions', {
      token: CF.token,
    });
    expect(left.body.sessions.map((s) => s.session_id)).toEqual([ids[1]]);
  });

  test("isolation: another network never sees or touches AS13335's sessions", async () => {
    const created = await post([amsV4, amsV6]);
    for (const session of created.body.sessions) {
      const id = session.session_id as string;
      expect((await call(api.baseUrl, 'GET', `/sessions/${id}`, { token: META.token })).status).toBe(404);
      expect((await call(api.baseUrl, 'DELETE', `/sessions/${id}`, { token: META.token })).status).toBe(404);
    }
    const metaList = await call<{ sessions: unknown[] }>(api.baseUrl, 'GET', '/sessions', {
      token: META.token,
    });
    expect(metaList.body.sessions).toEqual([]);
    const batch = await call<{ sessions: unknown[] }>(api.baseUrl, 'DELETE', '/sessions', {
      token: META.token,
      body: created.body.sessions.map((s) => ({ session_id: s.session_id })),
    });
    expect(batch.body.sessions).toEqual([]);
    expect(
      (await call<{ sessions: unknown[] }>(api.baseUrl, 'GET', '/sessions', { token: CF.token })).body
        .sessions,
    ).toHaveLength(2);
    // The read-only member of AS13335 may read but not delete.
    const id = created.body.sessions[0]!.session_id as string;
    expect((await call(api.baseUrl, 'GET', `/sessions/${id}`, { token: CF_READONLY.token })).status).toBe(
      200,
    );
    expect((await call(api.baseUrl, 'DELETE', `/sessions/${id}`, { token: CF_READONLY.token })).status).toBe(
      403,
    );
  });

  test('GET /locations lists our IXs with names and our addresses, filtered and paginated', async () => {
    const first = await call<{
      locations: { id: string; type: string; name?: string; local_ips?: string[] }[];
      next_token?: string;
    }>(api.baseUrl, 'GET', '/locations?location_type=public&max_results=50', { token: CF.token });
    expect(first.status).toBe(200);
    expect(first.body.locations).toHaveLength(50);
    const ams = first.body.locations.find((l) => l.id === 'pdb:ix:26');
    expect(ams).toMatchObject({ type: 'public', name: 'AMS-IX', asn: 15169 });
    expect(ams?.local_ips?.sort()).toEqual([
      '2001:7f8:1::a501:5169:1',
      '2001:7f8:1::a501:5169:2',
      '80.249.208.247',
      '80.249.209.100',
    ]);
    const all = [...first.body.locations];
    let token = first.body.next_token;
    while (token) {
      const page = await call<{ locations: { id: string }[]; next_token?: string }>(
        api.baseUrl,
        'GET',
        `/locations?location_type=public&max_results=50&next_token=${encodeURIComponent(token)}`,
        { token: CF.token },
      );
      all.push(...(page.body.locations as never[]));
      token = page.body.next_token;
    }
    expect(new Set(all.map((l) => l.id)).size).toBe(all.length);
    expect(all.length).toBe(214); // Google's distinct IXs in the 2022 sample
    const priv = await call<{ locations: { type: string }[] }>(
      api.baseUrl,
      'GET',
      '/locations?location_type=private',
      { token: CF.token },
    );
    expect(priv.body.locations.length).toBeGreaterThan(0);
    expect(priv.body.locations.every((l) => l.type === 'private')).toBe(true);
    // An ASN we do not serve is a filter matching nothing, not an error (docs/api.md §10).
    const notOurs = await call(api.baseUrl, 'GET', '/locations?asn=13335', { token: CF.token });
    expect(notOurs.status).toBe(200);
    expect(notOurs.body).toEqual({ locations: [] });
  });

  test('401 without or with a bad token, with an RFC 6750 challenge; request ids are echoed', async () => {
    const none = await call(api.baseUrl, 'GET', '/sessions');
    expect(none.status).toBe(401);
    // RFC 6750 §3.1: no credentials, no error code.
    expect(none.headers['www-authenticate']).toBe('Bearer realm="peering-api"');
    const bad = await call(api.baseUrl, 'GET', '/sessions', { token: 'not-a-valid-token-123' });
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toMatch(/^Bearer realm="peering-api", error="invalid_token"/);
    const traced = await call(api.baseUrl, 'GET', '/sessions', {
      token: CF.token,
      headers: { 'x-request-id': 'trace-abc.1' },
    });
    expect(traced.headers['x-request-id']).toBe('trace-abc.1');
    const hostile = await call(api.baseUrl, 'GET', '/sessions', {
      token: CF.token,
      headers: { 'x-request-id': 'a b<script>' },
    });
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('health, readiness, metrics and the OpenAPI document are served', async () => {
    const origin = api.origin;
    expect((await call(origin, 'GET', '/healthz', { conform: false })).status).toBe(200);
    expect((await call(origin, 'GET', '/readyz', { conform: false })).status).toBe(200);
    await post([amsV4]);
    const metrics = await call(origin, 'GET', '/metrics', { conform: false });
    expect(metrics.text).toContain(
      'peering_api_requests_total{route="/v0.1/sessions",method="POST",status="200"} 1',
    );
    expect(metrics.text).toContain('peering_api_session_decisions_total{outcome="accepted"} 1');
    const openapi = await call<{ openapi: string; servers: { url: string }[] }>(
      api.baseUrl,
      'GET',
      '/openapi.json',
    );
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(openapi.body.servers[0]?.url).toBe('http://127.0.0.1/v0.1');
  });

  test('manual approval leaves sessions pending; the pending limit and the deny list are enforced', async () => {
    await api.stop();
    api = await startTestApi({
      config: {
        asns: [15169],
        policy: { approval: 'manual', maxPendingSessionsPerPeer: 2, denyAsns: [32934] },
      },
      peeringDbDir: sample,
      tokens: [CF, META],
    });
    const answer = await post([amsV4, amsV6, { ...amsV4, local_ip: '80.249.209.100' }]);
    expect(answer.body.sessions.map((s) => s.status)).toEqual(['pending', 'pending']);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({ name: 'sessions[2].peer_asn', code: 'PENDING_LIMIT' }),
    ]);
    const denied = await post(
      [
        {
          local_asn: 15169,
          local_ip: '80.249.208.247',
          peer_asn: 32934,
          peer_ip: '80.249.209.115',
          location: AMS_IX,
        },
      ],
      META.token,
    );
    expect(denied.status).toBe(400);
    expect(denied.body.errors[0]).toMatchObject({ name: 'sessions[0].peer_asn', code: 'PEER_NOT_ALLOWED' });
  });

  test('approved sessions not established within the time window become unestablished', async () => {
    const answer = await post([amsV4]);
    const expired = await api.receiver.expireSessions(-1);
    expect(expired).toEqual([answer.body.sessions[0]!.session_id]);
    const after = await call(api.baseUrl, 'GET', `/sessions/${expired[0]!}`, { token: CF.token });
    expect(after.body).toMatchObject({ status: 'unestablished' });
    expect(await api.receiver.expireSessions(-1)).toEqual([]);
  });

  test('rate limiting answers 429 with Retry-After', async () => {
    await api.stop();
    api = await startTestApi({
      config: { asns: [15169], limits: { requestsPerMinute: 3 } },
      peeringDbDir: sample,
      tokens: [CF],
    });
    const statuses: number[] = [];
    let retryAfter: unknown;
    for (let i = 0; i < 5; i += 1) {
      const answer = await call(api.baseUrl, 'GET', '/sessions', { token: CF.token });
      statuses.push(answer.status);
      retryAfter ??= answer.headers['retry-after'];
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });
});
