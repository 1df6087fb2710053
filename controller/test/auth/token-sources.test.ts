import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loginWithAuthorizationCode } from '../../src/auth/login.js';
import { ClientCredentialsTokenSource, RefreshTokenSource } from '../../src/auth/oauth-token-sources.js';
import { StaticTokenSource } from '../../src/auth/token-source.js';
import { PeeringDbProfileVerifier } from '../../src/auth/peeringdb-verifier.js';
import { JwtAccessTokenVerifier } from '../../src/auth/jwt-verifier.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { decodeParts } from './forge.js';

// Our outbound side against the real issuer: openid-client over loopback HTTP, a clock the test moves, and
// the token endpoint calls counted through the fetch openid-client uses.
const API_URL = 'http://127.0.0.1:8443/v0.1';
const SECRET = 'automation-secret-0123456789';

describe('token sources', () => {
  let issuer: TestIssuer;
  let dir: string;
  let clock = Date.now();
  let tokenCalls = 0;
  const countingFetch: typeof fetch = (input, init) => {
    if (String(input instanceof Request ? input.url : input).endsWith('/token/')) tokenCalls++;
    return fetch(input, init);
  };

  beforeAll(async () => {
    issuer = await startTestIssuer({ accessTokenTtlSeconds: 3600 });
    issuer.addClient({ client_id: 'automation', client_secret: SECRET, account: 'admin64501' });
    dir = mkdtempSync(join(tmpdir(), 'peering-tokens-'));
  });
  afterAll(async () => {
    await issuer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('static: the same token every time', async () => {
    const source = new StaticTokenSource('fixed-token-0123456789');
    expect(await source.token()).toBe('fixed-token-0123456789');
  });

  describe('client credentials', () => {
    const source = (options: Partial<ConstructorParameters<typeof ClientCredentialsTokenSource>[0]> = {}) =>
      new ClientCredentialsTokenSource({
        issuer: issuer.issuer,
        clientId: 'automation',
        clientSecret: SECRET,
        resource: API_URL,
        now: () => clock,
        fetch: countingFetch,
        ...options,
      });

    test('with a resource indicator: a JWT for that API, verified by our own verifier', async () => {
      const token = await source().token();
      const { header, payload } = decodeParts(token);
      expect(header.typ).toBe('at+jwt');
      expect(payload.aud).toBe(API_URL);
      const identity = await new JwtAccessTokenVerifier({
        issuer: issuer.issuer,
        audience: API_URL,
      }).authenticate(`Bearer ${token}`);
      expect([...identity.networks]).toEqual([[64501, 15]]);
    });

    test('cached until a minute before expiry; concurrent callers share one request; invalidate refetches', async () => {
      const tokens = source();
      const before = tokenCalls;
      const [a, b, c] = await Promise.all([tokens.token(), tokens.token(), tokens.token()]);
      expect(new Set([a, b, c]).size).toBe(1);
      expect(tokenCalls - before).toBe(1);
      // The issuer's expires_in is 3600 or, when a second ticks over while it answers, 3599: a margin of 5 s each
      // side of the renewal point (a minute before expiry) holds for both.
      clock += 3600_000 - 65_000;
      expect(await tokens.token()).toBe(a);
      expect(tokenCalls - before).toBe(1);
      clock += 10_000;
      const renewed = await tokens.token();
      expect(renewed).not.toBe(a);
      expect(tokenCalls - before).toBe(2);
      tokens.invalidate();
      expect(await tokens.token()).not.toBe(renewed);
      expect(tokenCalls - before).toBe(3);
    });

    test('without a resource: an opaque token, like PeeringDB', async () => {
      expect(await source({ resource: undefined }).token()).not.toContain('.');
    });

    test('a wrong secret is UNAUTHENTICATED; an unreachable or plain-http remote issuer is refused', async () => {
      await expect(source({ clientSecret: 'wrong-secret-0123456789' }).token()).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
      await expect(source({ issuer: 'http://127.0.0.1:1/oauth2' }).token()).rejects.toMatchObject({
        code: 'IDENTITY_PROVIDER_UNAVAILABLE',
      });
      await expect(source({ issuer: 'http://idp.example.net/oauth2' }).token()).rejects.toMatchObject({
        code: 'INVALID_CONFIG',
      });
    });
  });

  describe('authorization code login, then the refresh token grant', () => {
    /** A login at the test issuer into `file`, the browser's part played by `openBrowser`. */
    const loginWith = (file: string, openBrowser: (url: string) => Promise<void>, resource?: string) =>
      loginWithAuthorizationCode({
        issuer: issuer.issuer,
        clientId: 'peeringctl',
        tokenFile: file,
        resource,
        openBrowser,
        timeoutMs: 10_000,
      });
    const login = async (file: string, username = 'admin64501', resource?: string) =>
      loginWith(file, issuer.browser(username), resource);
    const stored = (file: string) =>
      JSON.parse(readFileSync(file, 'utf8')) as { refresh_token: string; access_token: string };
    const refreshGrant = (refreshToken: string) =>
      fetch(`${issuer.issuer}/token/`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: 'peeringctl',
          refresh_token: refreshToken,
        }),
      });

    test('login stores the refresh token with mode 0600; the access token is a working PeeringDB token', async () => {
      const file = join(dir, 'login-a', 'login.json');
      const result = await login(file);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(stored(file).refresh_token).toEqual(expect.any(String));
      expect(stored(file)).not.toHaveProperty('client_secret');
      expect(result.subject).toBe('2');
      const identity = await new PeeringDbProfileVerifier({ url: issuer.origin }).authenticate(
        `Bearer ${result.accessToken}`,
      );
      expect([...identity.networks]).toEqual([[64501, 15]]);
    });

    test('refresh rotates the refresh token in the file (still 0600); the spent one is refused', async () => {
      const file = join(dir, 'login-b.json');
      const first = await login(file);
      const source = new RefreshTokenSource({ tokenFile: file, fetch: countingFetch });
      // The access token from the login is still fresh: no refresh spent.
      const before = tokenCalls;
      expect(await source.token()).toBe(first.accessToken);
      expect(tokenCalls).toBe(before);

      const spent = stored(file).refresh_token;
      source.invalidate();
      const second = await source.token();
      expect(second).not.toBe(first.accessToken);
      expect(tokenCalls - before).toBe(1);
      expect(stored(file).refresh_token).not.toBe(spent);
      expect(stored(file).access_token).toBe(second);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect((await refreshGrant(spent)).status).toBe(400);
      // The issuer treats the reuse as theft and revokes the grant: the person must log in again.
      source.invalidate();
      await expect(source.token()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    });

    test('two processes sharing the login file never spend the same refresh token', async () => {
      const file = join(dir, 'login-c.json');
      await login(file);
      const first = new RefreshTokenSource({ tokenFile: file });
      const second = new RefreshTokenSource({ tokenFile: file });
      first.invalidate();
      second.invalidate();
      // Both start from an expired view: force them to look at the file at the same moment.
      const expired = { ...JSON.parse(readFileSync(file, 'utf8')), expires_at: 0 };
      await import('node:fs/promises').then((fs) => fs.writeFile(file, JSON.stringify(expired)));
      const [a, b] = await Promise.all([first.token(), second.token()]);
      expect(a).toBe(b);
      // The rotated refresh token in the file is still good.
      expect((await refreshGrant(stored(file).refresh_token)).status).toBe(200);
    });

    test('with a resource indicator the login and every refresh give JWTs for that API', async () => {
      const file = join(dir, 'login-d.json');
      const result = await login(file, 'admin64501', API_URL);
      expect(decodeParts(result.accessToken).payload.aud).toBe(API_URL);
      const source = new RefreshTokenSource({ tokenFile: file });
      source.invalidate();
      await source.token(); // first call returns the stored token
      source.invalidate();
      const refreshed = await source.token();
      expect(refreshed).not.toBe(result.accessToken);
      expect(decodeParts(refreshed).payload).toMatchObject({ aud: API_URL, sub: '2' });
    });

    test('a login file others can read is refused', async () => {
      const file = join(dir, 'login-e.json');
      await login(file);
      chmodSync(file, 0o644);
      await expect(new RefreshTokenSource({ tokenFile: file }).token()).rejects.toMatchObject({
        code: 'INVALID_CONFIG',
        message: expect.stringMatching(/chmod 600/),
      });
    });

    test('a wrong password fails the login and closes the loopback listener; no file is written', async () => {
      const file = join(dir, 'login-f.json');
      let redirect = '';
      await expect(
        loginWith(file, async (url) => {
          redirect = new URL(url).searchParams.get('redirect_uri') ?? '';
          await issuer.browser('admin64501', 'not-the-password')(url);
        }),
      ).rejects.toThrow(/401/);
      expect(() => statSync(file)).toThrow();
      await expect(fetch(redirect)).rejects.toThrow();
    });

    test('a forged callback (wrong state) is refused', async () => {
      const file = join(dir, 'login-g.json');
      await expect(
        loginWith(file, async (url) => {
          const redirect = new URL(url).searchParams.get('redirect_uri')!;
          await fetch(`${redirect}?code=stolen-code&state=not-ours&iss=${encodeURIComponent(issuer.issuer)}`);
        }),
      ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(() => statSync(file)).toThrow();
    });
  });
});
