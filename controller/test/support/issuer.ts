import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DpopKey } from '../../src/auth/dpop-key.js';
import { loginWithAuthorizationCode } from '../../src/auth/login.js';
import { ClientCredentialsTokenSource } from '../../src/auth/oauth-token-sources.js';
import {
  parseIssuerFixture,
  type IssuerAccount,
  type IssuerFixtureInput,
} from '../../src/issuer/accounts.js';
import { startIssuer, type RunningIssuer } from '../../src/issuer/issuer.js';

/** The password of every account of {@link TEST_FIXTURE}: `password-` + its username. */
export const testPassword = (username: string) => `password-${username}`;

const account = (
  id: number,
  username: string,
  networks: IssuerAccount['networks'],
  extra: Partial<IssuerAccount> = {},
) => ({
  id,
  username,
  password: testPassword(username),
  name: `Test ${username}`,
  email: `${username}@example.net`,
  networks,
  ...extra,
});

/**
 * The default accounts (documentation ASNs): admins of AS64500, AS64501 and AS64502, a read-only member of
 * AS64501, an unverified user claiming AS64501, and an admin of AS64501's organisation who lacks the
 * peering-sessions right. Client `peeringctl` is public (loopback redirect, PKCE).
 */
export const TEST_FIXTURE = {
  accounts: [
    account(1, 'admin64500', [{ asn: 64500, perms: 15 }]),
    account(2, 'admin64501', [{ asn: 64501, perms: 15 }]),
    account(3, 'member64501', [{ asn: 64501, perms: 1 }]),
    account(4, 'unverified64501', [{ asn: 64501, perms: 15 }], { verified_user: false }),
    account(5, 'admin64502', [{ asn: 64502, perms: 15 }]),
    account(6, 'orgadmin64501', [{ asn: 64501, perms: 15, manage_peering_sessions: 1 }]),
  ],
  clients: [{ client_id: 'peeringctl', redirect_uris: ['http://127.0.0.1/callback'] }],
} satisfies IssuerFixtureInput;

export interface TestIssuer extends RunningIssuer {
  /** Ready-made `auth.issuers` entries for a Peering API configuration. */
  readonly issuers: {
    jwt: { kind: 'jwt'; issuer: string };
    peeringdb: { kind: 'peeringdb'; url: string };
  };
  /**
   * A JWT access token (RFC 9068) for `audience` whose `networks` claim lists `asn` with `perms` (default 15),
   * through a client credentials grant of a service client made for that pair. One token request; the token is
   * reused until a minute before it expires, so benchmarks can call this per request.
   */
  jwtFor(asn: number, audience: string, options?: { perms?: number }): Promise<string>;
  /** A JWT access token for `audience` acting for the fixture account `username` (client credentials). */
  jwt(username: string, audience: string): Promise<string>;
  /**
   * The token source an operator of `username`'s network runs: client credentials with a resource indicator
   * and, with `dpop`, tokens bound to that key (RFC 9449).
   */
  tokenSource(username: string, audience: string, dpop?: DpopKey): ClientCredentialsTokenSource;
  /**
   * Logs `username` in through the authorization code flow, as `peeringctl login` does (real loopback listener,
   * scripted browser): an opaque access token, or a JWT when `resource` is given, and the refresh token.
   */
  login(
    username: string,
    options?: { resource?: string; scope?: string },
  ): Promise<{ accessToken: string; refreshToken: string }>;
  /** An opaque PeeringDB-style access token of `username` (with scopes openid profile email networks). */
  opaqueToken(username: string): Promise<string>;
  /** An `openBrowser` for {@link loginWithAuthorizationCode} that logs in as `username` (wrong password: 401). */
  browser(username: string, password?: string): (authorizationUrl: string) => Promise<void>;
}

/**
 * Starts the PeeringDB-like issuer on 127.0.0.1 on a free port with {@link TEST_FIXTURE} (or `fixture`).
 * Stop it in `afterAll`.
 *
 * @example
 * const issuer = await startTestIssuer();
 * const api = await startTestApi({
 *   config: { asns: [64500], auth: { issuers: [issuer.issuers.jwt, issuer.issuers.peeringdb] } },
 *   peeringDbDir,
 * });
 * const jwt = await issuer.jwtFor(64501, 'http://127.0.0.1/v0.1'); // startTestApi's default apiUrl
 * const opaque = await issuer.opaqueToken('admin64501');
 * await issuer.stop();
 */
export async function startTestIssuer(
  options: { fixture?: IssuerFixtureInput; accessTokenTtlSeconds?: number; dpopRequireNonce?: boolean } = {},
): Promise<TestIssuer> {
  const running = await startIssuer({
    fixture: parseIssuerFixture(options.fixture ?? TEST_FIXTURE, 'test issuer fixture'),
    listen: '127.0.0.1:0',
    accessTokenTtlSeconds: options.accessTokenTtlSeconds,
    dpopRequireNonce: options.dpopRequireNonce,
    onError: (error) => console.error('test issuer:', error),
  });
  const tokenEndpoint = `${running.issuer}/token/`;
  const serviceClients = new Set<string>();
  const cache = new Map<string, { token: string; expiresAt: number }>();
  let nextAccountId = 900_000;

  const clientCredentials = async (clientId: string, audience: string): Promise<string> => {
    const key = `${clientId} ${audience}`;
    const cached = cache.get(key);
    if (cached && cached.expiresAt - 60_000 > Date.now()) return cached.token;
    const response = await fetch(tokenEndpoint, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secretOf(clientId),
        resource: audience,
      }),
    });
    const body = (await response.json()) as { access_token?: string; expires_in?: number };
    if (!response.ok || !body.access_token) {
      throw new Error(`test issuer refused a token for ${clientId}: ${JSON.stringify(body)}`);
    }
    cache.set(key, { token: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 0) * 1000 });
    return body.access_token;
  };

  const serviceClientFor = (username: string): string => {
    const clientId = `svc-${username}`;
    if (!serviceClients.has(clientId)) {
      running.addClient({ client_id: clientId, client_secret: secretOf(clientId), account: username });
      serviceClients.add(clientId);
    }
    return clientId;
  };

  const browser =
    (username: string, password = testPassword(username)) =>
    async (authorizationUrl: string): Promise<void> => {
      await scriptedLogin(running.origin, authorizationUrl, username, password);
    };

  const login = async (username: string, loginOptions: { resource?: string; scope?: string } = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'peering-login-'));
    try {
      const tokenFile = join(dir, 'login.json');
      const result = await loginWithAuthorizationCode({
        issuer: running.issuer,
        clientId: 'peeringctl',
        tokenFile,
        resource: loginOptions.resource,
        scope: loginOptions.scope,
        openBrowser: browser(username),
        timeoutMs: 10_000,
      });
      const stored = JSON.parse(readFileSync(tokenFile, 'utf8')) as { refresh_token: string };
      return { accessToken: result.accessToken, refreshToken: stored.refresh_token };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  // After a rotation, tokens handed out must be signed with the new key.
  const rotateSigningKey = running.rotateSigningKey.bind(running);
  const retirePreviousKeys = running.retirePreviousKeys.bind(running);
  return Object.assign(running, {
    rotateSigningKey: async () => {
      cache.clear();
      return rotateSigningKey();
    },
    retirePreviousKeys: async () => {
      cache.clear();
      return retirePreviousKeys();
    },
    issuers: {
      jwt: { kind: 'jwt' as const, issuer: running.issuer },
      peeringdb: { kind: 'peeringdb' as const, url: running.origin },
    },
    async jwtFor(asn: number, audience: string, { perms = 15 }: { perms?: number } = {}) {
      const username = `as${asn}-perms${perms}`;
      if (!serviceClients.has(`svc-${username}`)) {
        running.addAccount({
          id: nextAccountId++,
          username,
          password: testPassword(username),
          name: `Automation of AS${asn}`,
          networks: [{ asn, perms }],
        });
      }
      return clientCredentials(serviceClientFor(username), audience);
    },
    jwt: (username: string, audience: string) => clientCredentials(serviceClientFor(username), audience),
    tokenSource: (username: string, audience: string, dpop?: DpopKey) => {
      const clientId = serviceClientFor(username);
      return new ClientCredentialsTokenSource({
        issuer: running.issuer,
        clientId,
        clientSecret: secretOf(clientId),
        resource: audience,
        dpop,
      });
    },
    login,
    opaqueToken: async (username: string) => (await login(username)).accessToken,
    browser,
  });
}

function secretOf(clientId: string): string {
  return `secret-of-${clientId}-0123456789`;
}

/**
 * A browser that needs no person: follows the issuer's redirects keeping its cookies, fills in the login form
 * and finally calls the loopback redirect of the client, which completes the login there.
 */
async function scriptedLogin(
  origin: string,
  authorizationUrl: string,
  username: string,
  password: string,
): Promise<void> {
  const cookies = new Map<string, string>();
  const go = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string> | undefined),
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      const at = pair.indexOf('=');
      if (at > 0) cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  };
  let url = authorizationUrl;
  for (let hop = 0; hop < 10; hop++) {
    const target = new URL(url, origin);
    if (target.origin !== origin) {
      // The redirect back to the client's loopback listener: deliver it as a browser would.
      await (await fetch(target)).text();
      return;
    }
    let response = await go(target.href);
    if (response.status === 200 && target.pathname.includes('/interaction/')) {
      await response.text();
      response = await go(`${target.href}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, password }).toString(),
      });
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      throw new Error(`login as ${username} stopped at ${target.pathname} with ${response.status}`);
    }
    await response.text();
    url = location;
  }
  throw new Error('login did not finish within 10 redirects');
}
