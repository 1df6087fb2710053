import { call } from '../support/conformance.js';
import { EXAMPLE_SESSION, startTestApi, type TestApi } from '../support/api-server.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { EXAMPLES_DIR } from '../support/sample.js';
import { join } from 'node:path';

// AS64500 runs the Peering API (examples/peeringdb); AS64501 asks for sessions at exchange 1, with tokens of
// both kinds from the real PeeringDB-like issuer, configured the way `peering-operator serve` reads it.
const API_URL = 'http://127.0.0.1/v0.1';
const session = EXAMPLE_SESSION;
const sessionV6 = { ...session, local_ip: '2001:db8:1::1', peer_ip: '2001:db8:1::2' };

type Answer = { request_id: string; sessions: { session_id: string }[]; errors: { code: string }[] };

describe('bearer authentication through the Peering API', () => {
  let issuer: TestIssuer;
  let api: TestApi;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    api = await startTestApi({
      config: {
        asns: [64500],
        apiUrl: API_URL,
        auth: { issuers: [issuer.issuers.jwt, issuer.issuers.peeringdb] },
      },
      peeringDbDir: join(EXAMPLES_DIR, 'peeringdb'),
    });
  });
  afterAll(async () => {
    await api?.stop();
    await issuer?.stop();
  });

  test('a JWT access token (client credentials with a resource indicator) requests, reads and removes', async () => {
    const token = await issuer.jwt('admin64501', API_URL);
    expect(token.split('.')).toHaveLength(3);
    const created = await call<Answer>(api.baseUrl, 'POST', '/sessions', {
      token,
      body: { sessions: [session] },
    });
    expect(created.status).toBe(200);
    expect(created.body.errors).toEqual([]);
    const id = created.body.sessions[0]!.session_id;

    // The audit line names the subject (the service client), the e-mail and the issuer, never the token.
    const stored = await api.store.get(id);
    expect(stored?.createdBy).toBe(`svc-admin64501 <admin64501@example.net> via ${issuer.issuer}`);
    expect(stored?.createdBy).not.toContain(token);

    const listed = await call<{ sessions: { session_id: string }[] }>(
      api.baseUrl,
      'GET',
      '/sessions?asn=64501',
      {
        token,
      },
    );
    expect(listed.body.sessions.map((s) => s.session_id)).toEqual([id]);
    expect((await call(api.baseUrl, 'DELETE', `/sessions/${id}`, { token })).status).toBe(204);
    expect((await call(api.baseUrl, 'GET', `/sessions/${id}`, { token })).status).toBe(404);
  });

  test('an opaque PeeringDB-style token (authorization code login) is checked with /profile/v1', async () => {
    const token = await issuer.opaqueToken('admin64501');
    expect(token).not.toContain('.');
    const created = await call<Answer>(api.baseUrl, 'POST', '/sessions', {
      token,
      body: { sessions: [sessionV6] },
    });
    expect(created.status).toBe(200);
    const id = created.body.sessions[0]!.session_id;
    // PeeringDB's user id is the subject.
    expect((await api.store.get(id))?.createdBy).toBe(`2 <admin64501@example.net> via ${issuer.origin}`);
    const read = await call<{ session_id: string }>(api.baseUrl, 'GET', `/sessions/${id}`, { token });
    expect(read.status).toBe(200);
    expect(read.body.session_id).toBe(id);
  });

  test('a JWT from the authorization code flow with a resource indicator works too', async () => {
    const { accessToken } = await issuer.login('admin64501', { resource: API_URL });
    expect(accessToken.split('.')).toHaveLength(3);
    const listed = await call(api.baseUrl, 'GET', '/sessions?asn=64501', { token: accessToken });
    expect(listed.status).toBe(200);
  });

  test('a token for AS64502 sees nothing of AS64501: 403 on its asn, 404 on its session ids', async () => {
    const owner = await issuer.jwt('admin64501', API_URL);
    const created = await call<Answer>(api.baseUrl, 'POST', '/sessions', {
      token: owner,
      body: {
        sessions: [
          {
            ...session,
            local_ip: '198.51.100.1',
            peer_ip: '198.51.100.2',
            location: { id: 'pdb:ix:2', type: 'public' },
          },
        ],
      },
    });
    const id = created.body.sessions[0]!.session_id;
    const other = await issuer.jwt('admin64502', API_URL);
    expect((await call(api.baseUrl, 'GET', '/sessions?asn=64501', { token: other })).status).toBe(403);
    expect((await call(api.baseUrl, 'GET', `/sessions/${id}`, { token: other })).status).toBe(404);
    expect((await call(api.baseUrl, 'DELETE', `/sessions/${id}`, { token: other })).status).toBe(404);
    const mine = await call<{ sessions: unknown[] }>(api.baseUrl, 'GET', '/sessions', { token: other });
    expect(mine.body.sessions).toEqual([]);
    // Creating for AS64501 with AS64502's token: 403, and the session was not touched.
    const forged = await call(api.baseUrl, 'POST', '/sessions', {
      token: other,
      body: { sessions: [session] },
    });
    expect(forged.status).toBe(403);
    expect((await call(api.baseUrl, 'GET', `/sessions/${id}`, { token: owner })).status).toBe(200);
  });

  test('a read-only member reads its network but may not create or remove, with either token kind', async () => {
    for (const token of [await issuer.jwt('member64501', API_URL), await issuer.opaqueToken('member64501')]) {
      expect((await call(api.baseUrl, 'GET', '/sessions?asn=64501', { token })).status).toBe(200);
      const post = await call<{ errors: { code: string }[] }>(api.baseUrl, 'POST', '/sessions', {
        token,
        body: { sessions: [session] },
      });
      expect(post.status).toBe(403);
      expect(post.body.errors[0]?.code).toBe('FORBIDDEN_ASN');
    }
  });
});
