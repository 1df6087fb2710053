import { parseIssuerFixture } from '../../src/issuer/accounts.js';
import { startTestIssuer, TEST_FIXTURE, type TestIssuer } from '../support/issuer.js';
import { decodeParts } from './forge.js';

// The PeeringDB-like issuer speaks PeeringDB's routes and shapes (PEERINGDB.md), over real HTTP.
describe('PeeringDB-like issuer', () => {
  let issuer: TestIssuer;

  beforeAll(async () => {
    issuer = await startTestIssuer();
  });
  afterAll(async () => {
    await issuer?.stop();
  });

  const json = async (url: string, init?: RequestInit) => {
    const response = await fetch(url, init);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  test("discovery under /oauth2 and at the host's root names PeeringDB's routes", async () => {
    const nested = await json(`${issuer.issuer}/.well-known/openid-configuration`);
    const root = await json(`${issuer.origin}/.well-known/openid-configuration`);
    expect(nested.status).toBe(200);
    expect(root.body).toEqual(nested.body);
    expect(nested.body).toMatchObject({
      issuer: issuer.issuer,
      authorization_endpoint: `${issuer.issuer}/authorize/`,
      token_endpoint: `${issuer.issuer}/token/`,
      userinfo_endpoint: `${issuer.issuer}/userinfo/`,
      jwks_uri: `${issuer.issuer}/.well-known/jwks.json`,
      introspection_endpoint: `${issuer.issuer}/introspect/`,
      revocation_endpoint: `${issuer.issuer}/revoke_token/`,
    });
    expect(nested.body.scopes_supported).toEqual(
      expect.arrayContaining(['openid', 'profile', 'email', 'networks']),
    );
    const jwks = await json(`${issuer.issuer}/.well-known/jwks.json`);
    const keys = jwks.body.keys as Record<string, unknown>[];
    expect(keys.map((k) => k.kid)).toEqual(issuer.publishedKeyIds());
    // Public halves only.
    expect(keys.every((k) => k.d === undefined && k.p === undefined)).toBe(true);
  });

  test("/profile/v1 answers PeeringDB's body for an opaque token, 403 with an empty body otherwise", async () => {
    const token = await issuer.opaqueToken('admin64501');
    expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const profile = await json(`${issuer.origin}/profile/v1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(profile).toEqual({
      status: 200,
      body: {
        id: 2,
        name: 'Test admin64501',
        given_name: 'Test',
        family_name: 'admin64501',
        verified_user: true,
        email: 'admin64501@example.net',
        verified_email: true,
        networks: [{ id: 64501, name: 'AS64501', asn: 64501, perms: 15, manage_peering_sessions: 15 }],
      },
    });
    for (const authorization of [
      undefined,
      'Bearer not-a-token-at-all',
      `Bearer ${await issuer.jwt('admin64501', 'http://x/v0.1')}`,
    ]) {
      const refused = await fetch(`${issuer.origin}/profile/v1`, {
        headers: authorization ? { authorization } : {},
      });
      expect(refused.status).toBe(403);
      expect(await refused.text()).toBe('');
    }
  });

  test('JWTs for a resource: RFC 9068 header and claims with the networks; introspection of opaque has none', async () => {
    const jwt = await issuer.jwt('member64501', 'https://peering.example.net/v0.1');
    const { header, payload } = decodeParts(jwt);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'RS256', kid: issuer.publishedKeyIds()[0] });
    expect(payload).toMatchObject({
      iss: issuer.issuer,
      aud: 'https://peering.example.net/v0.1',
      sub: 'svc-member64501',
      client_id: 'svc-member64501',
      networks: [{ asn: 64501, perms: 1, manage_peering_sessions: 1 }],
    });
    expect(typeof payload.exp).toBe('number');
    expect(typeof payload.jti).toBe('string');

    const opaque = await issuer.opaqueToken('admin64501');
    const introspection = await json(`${issuer.issuer}/introspect/`, {
      method: 'POST',
      body: new URLSearchParams({ token: opaque, client_id: 'peeringctl' }),
    });
    expect(introspection.body).toMatchObject({ active: true, sub: '2' });
    expect(introspection.body).not.toHaveProperty('networks');
  });

  test("userinfo lists networks without manage_peering_sessions, as PeeringDB's OIDC claims do", async () => {
    const opaque = await issuer.opaqueToken('admin64501');
    const userinfo = await json(`${issuer.issuer}/userinfo/`, {
      headers: { authorization: `Bearer ${opaque}` },
    });
    expect(userinfo.body).toMatchObject({
      sub: '2',
      email: 'admin64501@example.net',
      email_verified: true,
      networks: [{ id: 64501, name: 'AS64501', asn: 64501, perms: 15 }],
    });
  });

  test('a revoked token is gone from /profile/v1', async () => {
    const token = await issuer.opaqueToken('admin64500');
    await fetch(`${issuer.issuer}/revoke_token/`, {
      method: 'POST',
      body: new URLSearchParams({ token, client_id: 'peeringctl' }),
    });
    const profile = await fetch(`${issuer.origin}/profile/v1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(profile.status).toBe(403);
  });
});

describe('issuer accounts fixture', () => {
  const problems = (raw: unknown) => {
    try {
      parseIssuerFixture(raw, 'fixture');
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };

  test('the test fixture and the example shape are valid', () => {
    expect(parseIssuerFixture(TEST_FIXTURE).accounts).toHaveLength(TEST_FIXTURE.accounts.length);
  });

  test('errors name the field and the rule', () => {
    const base = TEST_FIXTURE.accounts[0]!;
    expect(problems({ accounts: [base, { ...base, id: 99 }] })).toMatch(
      /accounts\.1\.username: admin64500 is used twice/,
    );
    expect(
      problems({
        accounts: [base],
        clients: [{ client_id: 'c', client_secret: 'x'.repeat(16), account: 'nobody' }],
      }),
    ).toMatch(/clients\.0\.account: no account has username nobody/);
    expect(problems({ accounts: [base], clients: [{ client_id: 'c' }] })).toMatch(
      /clients\.0\.redirect_uris: a public client/,
    );
    expect(
      problems({
        accounts: [base],
        clients: [{ client_id: 'c', redirect_uris: ['http://evil.example/cb'] }],
      }),
    ).toMatch(/clients\.0\.redirect_uris\.0: must be https/);
    expect(problems({ accounts: [{ ...base, networks: [{ asn: 64501, perms: 16 }] }] })).toMatch(
      /accounts\.0\.networks\.0\.perms/,
    );
    expect(problems({ accounts: [{ ...base, role: 'admin' }] })).toMatch(/accounts\.0: .*role/);
  });
});
