import { join } from 'node:path';
import type { JWK } from 'jose';
import { call, type ApiAnswer } from '../support/conformance.js';
import { EXAMPLE_SESSION, startTestApi, type TestApi } from '../support/api-server.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { EXAMPLES_DIR } from '../support/sample.js';
import {
  decodeParts,
  hmacWithPublicKey,
  startKeyServer,
  tamper,
  unsecuredToken,
  type KeyServer,
} from './forge.js';

// Every way in we could think of, each against the real server with the real issuer (and, for what no honest
// issuer signs, a key server whose keys the test holds). Each must be refused with the right status, a
// WWW-Authenticate challenge on 401, and a body that gives nothing away.
const API_URL = 'http://127.0.0.1/v0.1';
const UNREACHABLE_ISSUER = 'http://127.0.0.1:1/oauth2';
const session = EXAMPLE_SESSION;

type ErrorBody = { errors: { name: string; code: string; errors: string[] }[] };

interface Attempt {
  method?: string;
  path?: string;
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

interface Case {
  name: string;
  attempt: () => Promise<Attempt>;
  status: number;
  code: string;
}

describe('attack matrix: bearer tokens that must not get in', () => {
  let issuer: TestIssuer;
  let keys: KeyServer;
  let api: TestApi;
  let ownedSessionId: string;
  let issuerJwk: JWK;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    keys = await startKeyServer();
    api = await startTestApi({
      config: {
        asns: [64500],
        apiUrl: API_URL,
        auth: {
          issuers: [
            issuer.issuers.jwt,
            issuer.issuers.peeringdb,
            { kind: 'jwt', issuer: keys.issuer },
            { kind: 'jwt', issuer: UNREACHABLE_ISSUER },
          ],
        },
      },
      peeringDbDir: join(EXAMPLES_DIR, 'peeringdb'),
    });
    const owner = await issuer.jwt('admin64501', API_URL);
    const created = await call<{ sessions: { session_id: string }[] }>(api.baseUrl, 'POST', '/sessions', {
      token: owner,
      body: { sessions: [session] },
    });
    ownedSessionId = created.body.sessions[0]!.session_id;
    const jwks = (await (await fetch(`${issuer.issuer}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    issuerJwk = jwks.keys[0]!;
  });
  afterAll(async () => {
    await api?.stop();
    await keys?.stop();
    await issuer?.stop();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const realJwt = () => issuer.jwt('admin64501', API_URL);
  const validClaims = () => ({
    iss: issuer.issuer,
    aud: API_URL,
    sub: 'attacker',
    iat: now(),
    exp: now() + 600,
    networks: [{ asn: 64501, perms: 15 }],
  });

  const cases: Case[] = [
    { name: 'no Authorization header', attempt: async () => ({}), status: 401, code: 'UNAUTHENTICATED' },
    {
      name: 'a Basic Authorization header',
      attempt: async () => ({ headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'Bearer with characters no token has',
      attempt: async () => ({ headers: { authorization: 'Bearer <script>alert(1)</script>' } }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'an empty Bearer',
      attempt: async () => ({ headers: { authorization: 'Bearer ' } }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a malformed JWT (three segments of nonsense)',
      attempt: async () => ({ token: 'aaaa.bbbb.cccc' }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'alg: none with the issuer, audience and kid right',
      attempt: async () => ({
        token: unsecuredToken({ typ: 'at+jwt', kid: issuerJwk.kid }, validClaims()),
      }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: "HS256 signed with the issuer's public key",
      attempt: async () => ({
        token: hmacWithPublicKey(issuerJwk, { typ: 'at+jwt', kid: issuerJwk.kid }, validClaims()),
      }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a real token re-labelled with another iss',
      attempt: async () => ({
        token: tamper(await realJwt(), (p) => {
          p.iss = keys.issuer;
        }),
      }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a validly signed token from an issuer we do not trust',
      attempt: async () => {
        const stranger = await startKeyServer();
        try {
          return { token: await stranger.sign(API_URL) };
        } finally {
          await stranger.stop();
        }
      },
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: "iss differing only by a trailing slash from the trusted issuer's",
      attempt: async () => ({ token: await keys.sign(API_URL, { iss: `${keys.issuer}/` }) }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a real token for another API (wrong aud)',
      attempt: async () => ({ token: await issuer.jwt('admin64501', 'https://peering.example.org/v0.1') }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'aud differing only by a trailing slash',
      attempt: async () => ({ token: await keys.sign(API_URL, { aud: `${API_URL}/` }) }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'expired (beyond the clock tolerance)',
      attempt: async () => ({ token: await keys.sign(API_URL, { iat: now() - 3600, exp: now() - 120 }) }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'not yet valid (nbf beyond the clock tolerance)',
      attempt: async () => ({ token: await keys.sign(API_URL, { nbf: now() + 300 }) }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'issued in the future',
      attempt: async () => ({ token: await keys.sign(API_URL, { iat: now() + 600, exp: now() + 1200 }) }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'without exp',
      attempt: async () => ({ token: await keys.sign(API_URL, { exp: undefined }) }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'without sub',
      attempt: async () => ({ token: await keys.sign(API_URL, { sub: undefined }) }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a tampered payload (networks widened to AS64500, signature kept)',
      attempt: async () => ({
        token: tamper(await issuer.jwt('admin64502', API_URL), (p) => {
          p.networks = [{ asn: 64501, perms: 15, manage_peering_sessions: 15 }];
        }),
      }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a tampered header (typ changed, signature kept)',
      attempt: async () => {
        const token = await realJwt();
        const { header } = decodeParts(token);
        const forgedHeader = Buffer.from(JSON.stringify({ ...header, kid: 'other' })).toString('base64url');
        return { token: [forgedHeader, ...token.split('.').slice(1)].join('.') };
      },
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'an unknown kid (a key the issuer never published)',
      attempt: async () => ({ token: await keys.signWithStrangerKey(API_URL, 'never-published') }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: "the published kid on a stranger's key",
      attempt: async () => ({ token: await keys.signWithStrangerKey(API_URL) }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'typ JWT (an ID token shape, not an access token)',
      attempt: async () => ({ token: await keys.sign(API_URL, {}, { typ: 'JWT' }) }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'an algorithm outside the allow-list (RS384 over an RS256 key)',
      attempt: async () => ({ token: keys.signRaw(API_URL, { alg: 'RS384' }) }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a critical header extension nobody understands',
      attempt: async () => ({
        token: keys.signRaw(API_URL, { alg: 'RS256', crit: ['exp-v2'], 'exp-v2': 1 }),
      }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a jku header pointing at a key set of the attacker',
      attempt: async () => {
        const stranger = await startKeyServer();
        try {
          const token = await stranger.sign(
            API_URL,
            { iss: keys.issuer },
            { jku: `${stranger.issuer}/jwks.json` },
          );
          return { token };
        } finally {
          await stranger.stop();
        }
      },
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a networks claim that is not a list of networks',
      attempt: async () => ({ token: await keys.sign(API_URL, { networks: { asn: 64501 } }) }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'the access token in the query string (RFC 6750 §2.3 is not accepted)',
      attempt: async () => ({ path: `/sessions?asn=64501&access_token=${await realJwt()}` }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'an opaque token PeeringDB does not know',
      attempt: async () => ({ token: 'Xq3mZ9vB2nL8kP4rT7wY1cF6hJ0sD5' }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a refresh token used as an access token',
      attempt: async () => ({ token: (await issuer.login('admin64501')).refreshToken }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a token of an issuer that cannot be reached (503, not a way in)',
      attempt: async () => {
        const stranger = await startKeyServer();
        try {
          return { token: await stranger.sign(API_URL, { iss: UNREACHABLE_ISSUER }) };
        } finally {
          await stranger.stop();
        }
      },
      status: 503,
      code: 'IDENTITY_PROVIDER_UNAVAILABLE',
    },
    {
      name: "a token for AS64502 listing AS64501's sessions",
      attempt: async () => ({ token: await issuer.jwt('admin64502', API_URL), path: '/sessions?asn=64501' }),
      status: 403,
      code: 'FORBIDDEN_ASN',
    },
    {
      name: "a token for AS64502 reading AS64501's session by id",
      attempt: async () => ({
        token: await issuer.jwt('admin64502', API_URL),
        path: `/sessions/${ownedSessionId}`,
      }),
      status: 404,
      code: 'SESSION_NOT_FOUND',
    },
    {
      name: "a token for AS64502 deleting AS64501's session",
      attempt: async () => ({
        token: await issuer.jwt('admin64502', API_URL),
        method: 'DELETE',
        path: `/sessions/${ownedSessionId}`,
      }),
      status: 404,
      code: 'SESSION_NOT_FOUND',
    },
    {
      name: 'a token for AS64502 requesting sessions as AS64501',
      attempt: async () => ({
        token: await issuer.opaqueToken('admin64502'),
        method: 'POST',
        body: { sessions: [session] },
      }),
      status: 403,
      code: 'FORBIDDEN_ASN',
    },
    {
      name: 'a read-only member creating (JWT)',
      attempt: async () => ({
        token: await issuer.jwt('member64501', API_URL),
        method: 'POST',
        body: { sessions: [session] },
      }),
      status: 403,
      code: 'FORBIDDEN_ASN',
    },
    {
      name: 'a read-only member deleting (opaque)',
      attempt: async () => ({
        token: await issuer.opaqueToken('member64501'),
        method: 'DELETE',
        path: `/sessions/${ownedSessionId}`,
      }),
      // It can see the session, so hiding it helps no one; a 404 would read as "already gone" (issue 14).
      status: 403,
      code: 'FORBIDDEN_ASN',
    },
    {
      name: 'an org admin without the peering-sessions right creating',
      attempt: async () => ({
        token: await issuer.opaqueToken('orgadmin64501'),
        method: 'POST',
        body: { sessions: [session] },
      }),
      status: 403,
      code: 'FORBIDDEN_ASN',
    },
    {
      name: 'an unverified PeeringDB user (opaque token)',
      attempt: async () => ({ token: await issuer.opaqueToken('unverified64501') }),
      status: 403,
      code: 'FORBIDDEN_ASN',
    },
    {
      name: 'an unverified user through a JWT (the issuer vouches for no network)',
      attempt: async () => ({
        token: await issuer.jwt('unverified64501', API_URL),
        method: 'POST',
        body: { sessions: [session] },
      }),
      status: 403,
      code: 'FORBIDDEN_ASN',
    },
  ];

  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const attempt = await c.attempt();
    const answer = await call<ErrorBody>(api.baseUrl, attempt.method ?? 'GET', attempt.path ?? '/sessions', {
      token: attempt.token,
      headers: attempt.headers,
      body: attempt.body,
      conform: false,
    });
    expect({ status: answer.status, code: answer.body?.errors?.[0]?.code }).toEqual({
      status: c.status,
      code: c.code,
    });
    expectNothingOfValue(answer, attempt.token ?? attempt.headers?.authorization ?? attempt.path);
  });

  test('the profile endpoint down: opaque tokens get 503, nobody is let in, JWTs still work', async () => {
    // A token PeeringDB would accept, but it was never seen, so nothing is cached for it.
    const opaque = await issuer.opaqueToken('admin64501');
    issuer.setProfileOutage(true);
    try {
      for (const token of [opaque, 'Xq3mZ9vB2nL8kP4rT7wY1cF6hJ0sD5']) {
        const answer = await call<ErrorBody>(api.baseUrl, 'GET', '/sessions?asn=64501', {
          token,
          conform: false,
        });
        expect(answer.status).toBe(503);
        expect(answer.body.errors[0]?.code).toBe('IDENTITY_PROVIDER_UNAVAILABLE');
        expectNothingOfValue(answer, token);
      }
      const jwt = await realJwt();
      expect((await call(api.baseUrl, 'GET', '/sessions?asn=64501', { token: jwt })).status).toBe(200);
    } finally {
      issuer.setProfileOutage(false);
    }
    expect((await call(api.baseUrl, 'GET', '/sessions?asn=64501', { token: opaque })).status).toBe(200);
  });

  test('unknown kids do not make the server fetch the key set on every request', async () => {
    await call(api.baseUrl, 'GET', '/sessions', { token: await keys.signWithStrangerKey(API_URL, 'kid-a') });
    const before = keys.jwksFetches();
    for (const kid of ['kid-b', 'kid-c', 'kid-d', 'kid-e']) {
      const answer = await call(api.baseUrl, 'GET', '/sessions', {
        token: await keys.signWithStrangerKey(API_URL, kid),
        conform: false,
      });
      expect(answer.status).toBe(401);
    }
    expect(keys.jwksFetches()).toBe(before);
  });

  test('the matrix has at least 20 cases and the legitimate owner still gets in', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    const answer = await call(api.baseUrl, 'GET', `/sessions/${ownedSessionId}`, { token: await realJwt() });
    expect(answer.status).toBe(200);
  });
});

/** No token, key material, internals or addresses of our infrastructure in what an attacker reads. */
function expectNothingOfValue(answer: ApiAnswer<ErrorBody>, presented: string | undefined): void {
  const text = answer.text;
  expect(answer.body?.errors).toHaveLength(1);
  if (presented) {
    for (const part of presented.split(/[.\s&=?]/).filter((p) => p.length >= 12))
      expect(text).not.toContain(part);
  }
  expect(text).not.toMatch(
    /BEGIN|"d"\s*:|"n"\s*:|stack|\bat \S+:\d+|ECONN|jose|JWS|Error:|127\.0\.0\.1|\.[jt]s\b/,
  );
  expect(answer.headers['set-cookie']).toBeUndefined();
  if (answer.status === 401) {
    // A bearer token found wanting gets invalid_token; a request without one, the bare challenge (RFC 6750 §3.1).
    expect(String(answer.headers['www-authenticate'])).toMatch(
      /^Bearer realm="peering-api"(, error="invalid_token"(, error_description="[^"\\]*")?)?$/,
    );
  } else {
    expect(answer.headers['www-authenticate']).toBeUndefined();
  }
}
