import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PeeringDbProfileVerifier } from '../../src/auth/peeringdb-verifier.js';
import { PeeringError } from '../../src/domain/errors.js';
import { EXAMPLE_API_URL as API_URL, startExampleApi, type TestApi } from '../support/api-server.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';

// PeeringDB's opaque tokens: the answer of /profile/v1 is cached under the token's hash, never longer than
// the TTL nor the token's life, and a PeeringDB that cannot answer lets nobody in. The verifier's clock is the
// test's; its fetch is the real one, counted.
const TTL_MS = 5 * 60_000;

describe('PeeringDB profile verifier', () => {
  let issuer: TestIssuer;
  let api: TestApi;
  let status: (token: string) => Promise<number>;
  let clock = Date.now();
  let profileCalls = 0;
  const countingFetch: typeof fetch = (input, init) => {
    profileCalls++;
    return fetch(input, init);
  };

  beforeAll(async () => {
    issuer = await startTestIssuer();
    const verifier = new PeeringDbProfileVerifier({
      url: issuer.origin,
      cacheTtlMs: TTL_MS,
      now: () => clock,
      fetch: countingFetch,
    });
    ({ api, status } = await startExampleApi([verifier]));
  });
  afterAll(async () => {
    await api?.stop();
    await issuer?.stop();
  });
  const revoke = async (token: string) => {
    const response = await fetch(`${issuer.issuer}/revoke_token/`, {
      method: 'POST',
      body: new URLSearchParams({ token, client_id: 'peeringctl' }),
    });
    expect(response.status).toBe(200);
  };

  test('a revoked token works until its cached answer expires, then gets 401', async () => {
    const token = await issuer.opaqueToken('admin64501');
    const before = profileCalls;
    expect(await status(token)).toBe(200);
    expect(await status(token)).toBe(200);
    expect(profileCalls - before).toBe(1);

    await revoke(token);
    const profile = await fetch(`${issuer.origin}/profile/v1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(profile.status).toBe(403);
    clock += TTL_MS - 1000;
    expect(await status(token)).toBe(200);
    clock += 2000;
    expect(await status(token)).toBe(401);
    expect(profileCalls - before).toBe(2);
  });

  test('concurrent requests with one new token share one call to PeeringDB', async () => {
    const token = await issuer.opaqueToken('member64501');
    const before = profileCalls;
    const statuses = await Promise.all(Array.from({ length: 8 }, () => status(token)));
    expect(statuses).toEqual(Array(8).fill(200));
    expect(profileCalls - before).toBe(1);
  });

  test('JWT-shaped tokens are never sent to PeeringDB', async () => {
    const before = profileCalls;
    expect(await status(await issuer.jwt('admin64501', API_URL))).toBe(401);
    expect(profileCalls).toBe(before);
  });

  test('PeeringDB down: cached answers serve until they expire, then 503 for everyone', async () => {
    const cached = await issuer.opaqueToken('admin64501');
    const unseen = await issuer.opaqueToken('admin64501');
    expect(await status(cached)).toBe(200);
    issuer.setProfileOutage(true);
    try {
      expect(await status(cached)).toBe(200);
      expect(await status(unseen)).toBe(503);
      clock += TTL_MS + 1;
      expect(await status(cached)).toBe(503);
    } finally {
      issuer.setProfileOutage(false);
    }
    expect(await status(unseen)).toBe(200);
  });

  test('no answer is reused beyond the token lifetime, whatever the TTL', async () => {
    let localClock = Date.now();
    const verifier = new PeeringDbProfileVerifier({
      url: issuer.origin,
      cacheTtlMs: 60 * 60_000,
      tokenLifetimeMs: 2 * 60_000,
      now: () => localClock,
    });
    const token = await issuer.opaqueToken('admin64501');
    await verifier.authenticate(`Bearer ${token}`);
    issuer.setProfileOutage(true);
    try {
      localClock += 60_000;
      await expect(verifier.authenticate(`Bearer ${token}`)).resolves.toMatchObject({ subject: '2' });
      localClock += 61_000;
      await expect(verifier.authenticate(`Bearer ${token}`)).rejects.toMatchObject({
        code: 'IDENTITY_PROVIDER_UNAVAILABLE',
      });
    } finally {
      issuer.setProfileOutage(false);
    }
  });

  test('the identity: PeeringDB user id, e-mail, and networks with the write rule of PEERINGDB.md', async () => {
    const verifier = new PeeringDbProfileVerifier({ url: issuer.origin });
    const admin = await verifier.authenticate(`Bearer ${await issuer.opaqueToken('admin64501')}`);
    expect(admin).toMatchObject({ subject: '2', email: 'admin64501@example.net', issuer: issuer.origin });
    expect([...admin.networks]).toEqual([[64501, 15]]);
    const member = await verifier.authenticate(`Bearer ${await issuer.opaqueToken('member64501')}`);
    expect([...member.networks]).toEqual([[64501, 1]]);
    // perms 15 but manage_peering_sessions 1: reads only.
    const orgAdmin = await verifier.authenticate(`Bearer ${await issuer.opaqueToken('orgadmin64501')}`);
    expect([...orgAdmin.networks]).toEqual([[64501, 1]]);
    // Without the networks scope, PeeringDB lists none: a valid caller that holds nothing.
    const { accessToken } = await issuer.login('admin64501', { scope: 'openid profile' });
    const bare = await verifier.authenticate(`Bearer ${accessToken}`);
    expect(bare.networks.size).toBe(0);
    await expect(
      verifier.authenticate(`Bearer ${await issuer.opaqueToken('unverified64501')}`),
    ).rejects.toMatchObject({ code: 'FORBIDDEN_ASN', status: 403 });
  });

  test('unreachable, failing or confused PeeringDB: 503, never an identity', async () => {
    const token = 'Xq3mZ9vB2nL8kP4rT7wY1cF6hJ0sD5';
    const closed = new PeeringDbProfileVerifier({ url: 'http://127.0.0.1:1' });
    await expect(closed.authenticate(`Bearer ${token}`)).rejects.toMatchObject({
      code: 'IDENTITY_PROVIDER_UNAVAILABLE',
    });
    for (const [status, body] of [
      [200, '<html>maintenance</html>'],
      [200, JSON.stringify({ id: 1, networks: [{ asn: 64501, perms: 15 }] })], // no verified_user
      [500, '{}'],
      [429, '{}'],
      [302, ''],
    ] as const) {
      const server = await answering(status, body);
      try {
        const verifier = new PeeringDbProfileVerifier({
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        });
        const failure = await verifier.authenticate(`Bearer ${token}`).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(PeeringError);
        expect(failure).toMatchObject({ code: 'IDENTITY_PROVIDER_UNAVAILABLE', status: 503 });
        expect((failure as Error).message).not.toContain(token);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });

  test('a remote PeeringDB over plain http is refused at construction', () => {
    expect(() => new PeeringDbProfileVerifier({ url: 'http://auth.peeringdb.example' })).toThrow(/https/);
  });
});

async function answering(status: number, body: string): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', location: 'http://evil.example/' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
