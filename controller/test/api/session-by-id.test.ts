import { join } from 'node:path';
import { StaticTokenSource } from '../../src/auth/token-source.js';
import { ClientPeerApiConnector } from '../../src/operator/peer/peer-api.js';
import { call } from '../support/conformance.js';
import { EXAMPLE_SESSION, startTestApi, type TestApi } from '../support/api-server.js';
import { EXAMPLES_DIR } from '../support/sample.js';

// A session by its id as another network would probe it (issue 14): a member of the owning network with read
// permission only, ids in upper case and far too long, and a request without any credentials.
const ADMIN = {
  token: 'token-as64501-admin-000000001',
  subject: 'admin',
  networks: [{ asn: 64501, perms: 15 }],
};
const READER = {
  token: 'token-as64501-reader-00000001',
  subject: 'reader',
  networks: [{ asn: 64501, perms: 1 }],
};
const OTHER = {
  token: 'token-as64502-admin-000000001',
  subject: 'other',
  networks: [{ asn: 64502, perms: 15 }],
};

type ErrorBody = { errors: { name: string; code: string; errors: string[] }[] };

describe('a session by its id', () => {
  let api: TestApi;
  let sessionId: string;

  beforeAll(async () => {
    api = await startTestApi({
      config: { asns: [64500] },
      peeringDbDir: join(EXAMPLES_DIR, 'peeringdb'),
      tokens: [ADMIN, READER, OTHER],
    });
    const created = await call<{ sessions: { session_id: string }[] }>(api.baseUrl, 'POST', '/sessions', {
      token: ADMIN.token,
      body: { sessions: [EXAMPLE_SESSION] },
    });
    expect(created.status).toBe(200);
    sessionId = created.body.sessions[0]!.session_id;
  });
  afterAll(async () => {
    await api?.stop();
  });

  const get = (id: string, token: string) => call(api.baseUrl, 'GET', `/sessions/${id}`, { token });

  it('refuses a read-only member’s DELETE with 403 FORBIDDEN_ASN, and the session stays', async () => {
    expect((await get(sessionId, READER.token)).status).toBe(200);
    const refused = await call<ErrorBody>(api.baseUrl, 'DELETE', `/sessions/${sessionId}`, {
      token: READER.token,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.errors[0]).toMatchObject({ name: 'session_id', code: 'FORBIDDEN_ASN' });
    const batch = await call<ErrorBody & { sessions: unknown[] }>(api.baseUrl, 'DELETE', '/sessions', {
      token: READER.token,
      body: [{ session_id: sessionId }],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.sessions).toEqual([]);
    expect(batch.body.errors[0]).toMatchObject({ name: 'sessions[0].session_id', code: 'FORBIDDEN_ASN' });
    expect((await get(sessionId, ADMIN.token)).status).toBe(200);
  });

  it("is a failure to the operator's peer API too, never the success a 404 would be taken for", async () => {
    const peers = new ClientPeerApiConnector();
    const asReader = peers.connect({
      url: api.baseUrl,
      localAsn: 64501,
      peerAsn: 64500,
      token: new StaticTokenSource(READER.token),
      credentialKey: 'reader',
    });
    await expect(asReader.deleteSession(sessionId)).rejects.toMatchObject({ code: 'FORBIDDEN_ASN' });
    expect((await get(sessionId, ADMIN.token)).status).toBe(200);
    await peers.close();
  });

  it('still answers 404 to a network that may not see the session at all, for reads and deletes alike', async () => {
    expect((await get(sessionId, OTHER.token)).status).toBe(404);
    const hidden = await call<ErrorBody>(api.baseUrl, 'DELETE', `/sessions/${sessionId}`, {
      token: OTHER.token,
    });
    expect(hidden.status).toBe(404);
    expect(hidden.body.errors[0]?.code).toBe('SESSION_NOT_FOUND');
  });

  it('reads an id written in upper case as the same session (RFC 9562 §4)', async () => {
    const upper = await get(sessionId.toUpperCase(), ADMIN.token);
    expect(upper.status).toBe(200);
    expect((upper.body as { session_id: string }).session_id).toBe(sessionId);
  });

  it.each([300, 5_000])(
    'answers a %i-character id 400 INVALID_SESSION_ID in the catalog’s shape',
    async (length) => {
      const answer = await call<ErrorBody>(api.baseUrl, 'GET', `/sessions/${'a'.repeat(length)}`, {
        token: ADMIN.token,
      });
      expect(answer.status).toBe(400);
      expect(answer.body.errors[0]).toMatchObject({ name: 'session_id', code: 'INVALID_SESSION_ID' });
    },
  );

  it('challenges a request without credentials with no error code, and a bad token with invalid_token', async () => {
    const bare = await call(api.baseUrl, 'GET', `/sessions/${sessionId}`);
    expect(bare.status).toBe(401);
    expect(bare.headers['www-authenticate']).toBe('Bearer realm="peering-api"');
    const wrong = await call(api.baseUrl, 'GET', `/sessions/${sessionId}`, {
      token: 'not-a-token-0000000000',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/^Bearer realm="peering-api", error="invalid_token"/);
  });

  it.each([
    ['PUT', '/sessions', 'GET, HEAD, POST, DELETE'],
    ['PATCH', '/sessions/00000000-0000-4000-8000-000000000000', 'GET, HEAD, DELETE'],
    ['POST', '/locations', 'GET, HEAD'],
  ])('answers %s %s 405 with the methods it allows (RFC 9110 §15.5.6)', async (method, path, allow) => {
    const answer = await call<ErrorBody>(api.baseUrl, method, path, { token: ADMIN.token, conform: false });
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe(allow);
    expect(answer.body.errors[0]?.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('answers a re-request with other terms per item, leaving the session as it is; the same terms stay idempotent', async () => {
    type Answer = ErrorBody & { sessions: { session_id: string; local_bgp_role?: number }[] };
    const post = (sessions: object[]) =>
      call<Answer>(api.baseUrl, 'POST', '/sessions', { token: ADMIN.token, body: { sessions } });
    const again = await post([EXAMPLE_SESSION]);
    expect(again.status).toBe(200);
    expect(again.body.sessions.map((s) => s.session_id)).toEqual([sessionId]);
    expect(again.body.errors).toEqual([]);

    const v6 = { ...EXAMPLE_SESSION, local_ip: '2001:db8:1::1', peer_ip: '2001:db8:1::2' };
    const other = await post([{ ...EXAMPLE_SESSION, local_bgp_role: 4, peer_bgp_role: 4 }, v6]);
    expect(other.status).toBe(200);
    expect(other.body.sessions).toHaveLength(1);
    expect(other.body.sessions[0]?.session_id).not.toBe(sessionId);
    expect(other.body.errors).toEqual([
      expect.objectContaining({
        name: 'sessions[0].local_bgp_role',
        code: 'SESSION_EXISTS_WITH_OTHER_TERMS',
      }),
    ]);
    expect(other.body.errors[0]?.errors[0]).toMatch(/local_bgp_role, peer_bgp_role/);
    // The DATA TYPES reading (local_* = the caller) gets the names in its own reading.
    const flipped = await post([
      {
        local_asn: 64501,
        local_ip: '192.0.2.2',
        peer_asn: 64500,
        peer_ip: '192.0.2.1',
        location: 'pdb:ix:1',
        local_insert_asn: false,
      },
    ]);
    expect(flipped.status).toBe(400);
    expect(flipped.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'sessions[0].local_insert_asn',
          code: 'SESSION_EXISTS_WITH_OTHER_TERMS',
        }),
      ]),
    );
    const unchanged = await call<{ local_bgp_role?: number; peer_insert_asn: boolean }>(
      api.baseUrl,
      'GET',
      `/sessions/${sessionId}`,
      { token: ADMIN.token },
    );
    expect(unchanged.body).toMatchObject({ peer_insert_asn: true });
    expect(unchanged.body.local_bgp_role).toBeUndefined();
    await call(api.baseUrl, 'DELETE', `/sessions/${other.body.sessions[0]!.session_id}`, {
      token: ADMIN.token,
    });
  });

  it('removes a session named twice in one batch DELETE once, and says the repeat was one', async () => {
    const created = await call<{ sessions: { session_id: string }[] }>(api.baseUrl, 'POST', '/sessions', {
      token: ADMIN.token,
      body: { sessions: [{ ...EXAMPLE_SESSION, local_ip: '2001:db8:1::1', peer_ip: '2001:db8:1::2' }] },
    });
    const id = created.body.sessions[0]!.session_id;
    const batch = await call<ErrorBody & { sessions: { session_id: string }[] }>(
      api.baseUrl,
      'DELETE',
      '/sessions',
      {
        token: ADMIN.token,
        body: [{ session_id: id }, { session_id: id.toUpperCase() }],
      },
    );
    expect(batch.status).toBe(200);
    expect(batch.body.sessions.map((s) => s.session_id)).toEqual([id]);
    expect(batch.body.errors).toEqual([
      expect.objectContaining({ name: 'sessions[1].session_id', code: 'DUPLICATE_IN_REQUEST' }),
    ]);
  });

  it('removes the session by its upper-case id for a member who may manage it', async () => {
    const removed = await call(api.baseUrl, 'DELETE', `/sessions/${sessionId.toUpperCase()}`, {
      token: ADMIN.token,
    });
    expect(removed.status).toBe(204);
    expect((await get(sessionId, ADMIN.token)).status).toBe(404);
  });
});
