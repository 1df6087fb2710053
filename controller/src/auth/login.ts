import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import type { DpopKey } from './dpop-key.js';
import { PeeringError } from '../domain/errors.js';
import { discoverIssuer, oauthFailure, requireDpopBound } from './oauth-client.js';
import { TokenFile } from './token-file.js';

/** PeeringDB's scopes that let a receiver see who the person is and which networks they hold. */
export const DEFAULT_LOGIN_SCOPE = 'openid profile email networks';

export interface LoginOptions {
  /** The issuer identifier, e.g. `https://auth.peeringdb.com/oauth2`. */
  issuer: string;
  clientId: string;
  /** Only for a confidential client; never written to the login file. */
  clientSecret?: string | undefined;
  /** Default {@link DEFAULT_LOGIN_SCOPE}. */
  scope?: string | undefined;
  /** Bind the tokens to this key (RFC 9449 DPoP): the issuer must support it, and the key is then needed. */
  dpop?: DpopKey | undefined;
  /** RFC 8707 resource (a Peering API URL): the tokens are then JWTs for that API, else opaque. */
  resource?: string | undefined;
  /** Where the login (refresh token) is stored, mode 0600. */
  tokenFile: string;
  /**
   * Shows the authorization URL to the person: print it, open a browser, or (in tests) drive a scripted
   * browser. Login completes when the browser reaches our loopback redirect.
   */
  openBrowser: (authorizationUrl: string) => void | Promise<void>;
  /** Port of the loopback listener on 127.0.0.1; default 0 (any free port, RFC 8252 §7.3). */
  port?: number | undefined;
  /** Gives up after this long; default 5 minutes. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  fetch?: typeof fetch;
}

export interface LoginResult {
  tokenFile: string;
  accessToken: string;
  expiresAt: Date | undefined;
  /** `sub` of the ID token, when the issuer sent one. */
  subject: string | undefined;
  scope: string | undefined;
}

/**
 * `peeringctl login`: the OAuth 2.0 authorization code flow with PKCE for a native app (RFC 8252). Listens on
 * `http://127.0.0.1:PORT/callback`, hands the authorization URL to `openBrowser`, waits for the redirect,
 * checks `state` (and `iss`), exchanges the code and stores the refresh token in `tokenFile` (mode 0600) for
 * {@link RefreshTokenSource}. The listener accepts one answer and is closed whatever happens.
 *
 * @example
 * const result = await loginWithAuthorizationCode({
 *   issuer: 'http://127.0.0.1:9000/oauth2',
 *   clientId: 'peeringctl',
 *   tokenFile: `${homedir()}/.config/peeringctl/login.json`,
 *   openBrowser: (url) => console.error(`Open this URL to log in:\n  ${url}`),
 * });
 */
export async function loginWithAuthorizationCode(options: LoginOptions): Promise<LoginResult> {
  const configuration = await discoverIssuer(options);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const scope = options.scope ?? DEFAULT_LOGIN_SCOPE;
  const listener = await listenOnLoopback(options.port ?? 0);
  try {
    const redirectUri = `http://127.0.0.1:${listener.port}/callback`;
    const parameters: Record<string, string> = {
      redirect_uri: redirectUri,
      scope,
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      // PeeringDB and oidc-provider issue refresh tokens to code grants; `offline_access` would make some
      // issuers insist on a consent prompt, so it is not asked for.
    };
    if (options.resource !== undefined) parameters.resource = options.resource;
    const authorizationUrl = oidc.buildAuthorizationUrl(configuration, parameters);
    const callback = listener.nextCallback(options.timeoutMs ?? 5 * 60_000, options.signal);
    // If opening the browser fails, the wait is abandoned: its rejection must not surface later on its own.
    callback.catch(() => undefined);
    await options.openBrowser(authorizationUrl.href);
    const callbackUrl = await callback;
    let answer: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      answer = await oidc.authorizationCodeGrant(
        configuration,
        callbackUrl,
        { pkceCodeVerifier: verifier, expectedState: state },
        options.resource === undefined ? undefined : { resource: options.resource },
        options.dpop ? { DPoP: oidc.getDPoPHandle(configuration, options.dpop.keyPair) } : undefined,
      );
    } catch (error) {
      throw oauthFailure(error, 'logging in', 'UNAUTHENTICATED');
    }
    requireDpopBound(answer.token_type, options.dpop !== undefined, options.issuer);
    if (answer.refresh_token === undefined) {
      throw new PeeringError(
        'UNAUTHENTICATED',
        `the issuer ${options.issuer} issued no refresh token to ${options.clientId}; it cannot act without you`,
        'authorization',
      );
    }
    const expiresIn = answer.expiresIn();
    const expiresAt = expiresIn === undefined ? undefined : new Date(Date.now() + expiresIn * 1000);
    await new TokenFile(options.tokenFile).write({
      issuer: options.issuer,
      client_id: options.clientId,
      scope: answer.scope ?? scope,
      ...(options.resource !== undefined ? { resource: options.resource } : {}),
      refresh_token: answer.refresh_token,
      access_token: answer.access_token,
      ...(expiresAt ? { expires_at: Math.floor(expiresAt.getTime() / 1000) } : {}),
      ...(options.dpop ? { dpop_jkt: options.dpop.thumbprint } : {}),
    });
    return {
      tokenFile: options.tokenFile,
      accessToken: answer.access_token,
      expiresAt,
      subject: answer.claims()?.sub,
      scope: answer.scope,
    };
  } finally {
    await listener.close();
  }
}

interface LoopbackListener {
  port: number;
  /** The full redirect URL the browser arrived with. */
  nextCallback(timeoutMs: number, signal: AbortSignal | undefined): Promise<URL>;
  close(): Promise<void>;
}

async function listenOnLoopback(port: number): Promise<LoopbackListener> {
  let deliver: ((url: URL) => void) | undefined;
  let stopWaiting: (() => void) | undefined;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1`);
    if (req.method !== 'GET' || url.pathname !== '/callback' || !deliver) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const failed = url.searchParams.has('error');
    res
      .writeHead(failed ? 400 : 200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none'",
      })
      .end(
        failed
          ? '<!DOCTYPE html><p>Login failed; see the terminal.</p>'
          : '<!DOCTYPE html><p>Logged in. You can close this window and return to the terminal.</p>',
      );
    const take = deliver;
    deliver = undefined;
    take(new URL(url.pathname + url.search, `http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new PeeringError('INVALID_CONFIG', `cannot listen on 127.0.0.1:${port}: ${error.message}`, 'port'),
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    nextCallback: (timeoutMs, signal) =>
      new Promise<URL>((resolve, reject) => {
        const timer = setTimeout(() => {
          deliver = undefined;
          reject(
            new PeeringError('TIMEOUT', `no login within ${Math.round(timeoutMs / 1000)} s`, 'authorization'),
          );
        }, timeoutMs);
        const abort = () => {
          clearTimeout(timer);
          deliver = undefined;
          reject(new PeeringError('TIMEOUT', 'login cancelled', 'authorization'));
        };
        signal?.addEventListener('abort', abort, { once: true });
        deliver = (url) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', abort);
          resolve(url);
        };
        stopWaiting = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', abort);
          deliver = undefined;
          reject(new PeeringError('TIMEOUT', 'login abandoned', 'authorization'));
        };
      }),
    close: () =>
      new Promise<void>((resolve) => {
        stopWaiting?.();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
