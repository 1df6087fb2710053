import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, {
  errors as oidcErrors,
  type AdapterPayload,
  type Client,
  type TokenLike,
} from 'oidc-provider';
import { PeeringError } from '../domain/errors.js';
import {
  IssuerAccountSchema,
  IssuerClientSchema,
  profileBody,
  profileNetworks,
  type IssuerAccount,
  type IssuerClient,
  type IssuerFixture,
} from './accounts.js';
import { handleInteraction } from './interaction.js';
import { IssuerStorage } from './storage.js';

/** PeeringDB mounts its OAuth 2.0 / OIDC server under this path; the issuer identifier ends with it. */
export const ISSUER_PATH = '/oauth2';
/** PeeringDB's profile route, at the root of the host. */
export const PROFILE_PATH = '/profile/v1';
/** The scopes a resource server (a Peering API) receives in the JWT access tokens minted for it. */
const RESOURCE_SCOPE = 'profile email networks';
/** PeeringDB's access tokens live 10 hours. */
const PEERINGDB_ACCESS_TOKEN_TTL = 10 * 3600;

export interface IssuerOptions {
  fixture: IssuerFixture;
  /** `HOST:PORT`; port 0 picks a free one. Default `127.0.0.1:0`. */
  listen?: string;
  /** Origin clients see when the issuer is behind a proxy; default `http://HOST:PORT` of the listener. */
  publicOrigin?: string;
  /** Lifetime of access tokens, both kinds; default PeeringDB's 10 hours. */
  accessTokenTtlSeconds?: number;
  /**
   * Require a server nonce in DPoP proofs at the token endpoint (RFC 9449 §8), as an issuer may; clients then
   * retry once with the `DPoP-Nonce` given. Default false.
   */
  dpopRequireNonce?: boolean;
  /** Called with errors the provider hides behind a `server_error` answer. */
  onError?: (error: unknown) => void;
}

/** A running PeeringDB-like issuer. */
export interface RunningIssuer {
  /** `http://127.0.0.1:PORT`: the `url` of a `kind: peeringdb` issuer (its `/profile/v1` lives here). */
  readonly origin: string;
  /** `origin` + `/oauth2`: the issuer identifier, the `issuer` of a `kind: jwt` issuer. */
  readonly issuer: string;
  /** Adds (or replaces) an account at run time, as if PeeringDB had a new member. */
  addAccount(account: z_input<typeof IssuerAccountSchema>): IssuerAccount;
  /** Adds (or replaces) an OAuth client at run time. */
  addClient(client: z_input<typeof IssuerClientSchema>): IssuerClient;
  /** Publishes a new signing key and signs with it from now on; the previous keys stay published. */
  rotateSigningKey(): Promise<string>;
  /** Stops publishing every key but the current signing key. */
  retirePreviousKeys(): Promise<void>;
  /** Key ids currently published in the JWKS, signing key first. */
  publishedKeyIds(): string[];
  /** While on, `/profile/v1` answers 503 (PeeringDB down); the OAuth routes keep working. */
  setProfileOutage(on: boolean): void;
  stop(): Promise<void>;
}

type z_input<T extends { _zod: { input: unknown } }> = T['_zod']['input'];

interface SigningKey {
  kid: string;
  privateJwk: JWK;
}

/**
 * Starts an OAuth 2.0 / OpenID Connect issuer that behaves like PeeringDB's (auth.peeringdb.com) on
 * oidc-provider: the same route names under `/oauth2`, opaque access tokens whose networks are behind
 * `GET /profile/v1`, rotating refresh tokens, and, when a client sends a resource indicator (RFC 8707), RFC 9068
 * JWT access tokens for that audience carrying the PeeringDB-shaped `networks` claim.
 *
 * @example
 * const issuer = await startIssuer({ fixture: await loadIssuerFixture('examples/issuer-accounts.yaml') });
 * // config: auth.issuers: [{ kind: jwt, issuer: issuer.issuer }, { kind: peeringdb, url: issuer.origin }]
 * await issuer.stop();
 */
export async function startIssuer(options: IssuerOptions): Promise<RunningIssuer> {
  const accounts = new Map<string, IssuerAccount>();
  const clients = new Map<string, IssuerClient>();
  for (const account of options.fixture.accounts) accounts.set(account.username, account);
  for (const client of options.fixture.clients) clients.set(client.client_id, client);
  const accountById = (id: string | undefined) =>
    id === undefined ? undefined : [...accounts.values()].find((a) => String(a.id) === id);
  const accountOfClient = (clientId: string | undefined) => {
    const username = clientId === undefined ? undefined : clients.get(clientId)?.account;
    return username === undefined ? undefined : accounts.get(username);
  };
  const accessTokenTtl = options.accessTokenTtlSeconds ?? PEERINGDB_ACCESS_TOKEN_TTL;
  const storage = new IssuerStorage((clientId) => {
    const client = clients.get(clientId);
    return client ? clientMetadata(client) : undefined;
  });
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const dpopNonceSecret = randomBytes(32);
  let keys: SigningKey[] = [await newSigningKey()];
  let profileOutage = false;

  const { host, port } = splitHostPort(options.listen ?? '127.0.0.1:0');
  const server: Server = createServer((req, res) => void route(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const listenHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const origin = (
    options.publicOrigin ??
    `http://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${address.port}`
  ).replace(/\/$/, '');
  const issuer = `${origin}${ISSUER_PATH}`;

  const buildProvider = (): Provider => {
    const signingKid = keys[0]!.kid;
    const provider = new Provider(issuer, {
      adapter: (model: string) => storage.adapterFor(model),
      clients: [],
      jwks: { keys: keys.map((k) => k.privateJwk) },
      cookies: { keys: cookieKeys, long: { signed: true }, short: { signed: true } },
      scopes: ['openid', 'offline_access', 'profile', 'email', 'networks', 'amr'],
      claims: {
        openid: ['sub'],
        profile: ['name', 'given_name', 'family_name'],
        email: ['email', 'email_verified'],
        networks: ['networks'],
      },
      findAccount: async (_ctx: unknown, sub: string) => {
        const account = accountById(sub);
        if (!account) return undefined;
        return {
          accountId: sub,
          claims: async () => ({
            sub,
            ...profileBody(account, new Set()),
            email: account.email,
            email_verified: account.verified_email,
            // The OIDC claims lack `manage_peering_sessions`, as PeeringDB's do (PEERINGDB.md).
            networks: profileNetworks(account).map(({ id, name, asn, perms }) => ({ id, name, asn, perms })),
          }),
        };
      },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        // RFC 9449: a client that sends a DPoP proof to the token endpoint gets a token bound to its key
        // (`cnf.jkt` in the JWT access token, token_type DPoP); one that sends none still gets a bearer token.
        dPoP: {
          enabled: true,
          nonceSecret: dpopNonceSecret,
          requireNonce: () => options.dpopRequireNonce ?? false,
        },
        introspection: { enabled: true, allowedPolicy: async () => true },
        revocation: { enabled: true },
        userinfo: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf,
          useGrantedResource: async () => false,
          getResourceServerInfo: async (_ctx: unknown, resource: string) => {
            if (!/^https?:\/\/[^\s#]+$/.test(resource)) {
              throw new oidcErrors.InvalidTarget('resource must be an absolute http(s) URL');
            }
            return {
              scope: RESOURCE_SCOPE,
              audience: resource,
              accessTokenTTL: accessTokenTtl,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'RS256', kid: signingKid } },
            };
          },
        },
      },
      // JWT access tokens carry the networks; opaque ones (and so introspection) do not, as at PeeringDB.
      extraTokenClaims: async (_ctx: unknown, token: TokenLike) => {
        if (token.resourceServer?.accessTokenFormat !== 'jwt') return undefined;
        const account = accountById(token.accountId) ?? accountOfClient(token.clientId);
        if (!account) return undefined;
        return {
          ...(account.email !== undefined ? { email: account.email } : {}),
          // An issuer vouches for memberships only of people it verified.
          networks: account.verified_user ? profileNetworks(account) : [],
        };
      },
      // PeeringDB issues a refresh token with every code, never lets it expire, and rotates it on use.
      issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
        client.grantTypeAllowed('refresh_token'),
      expiresWithSession: async () => false,
      rotateRefreshToken: true,
      pkce: { required: (_ctx: unknown, client: Client) => client.clientAuthMethod === 'none' },
      interactions: {
        url: async (_ctx: unknown, interaction: { uid: string }) =>
          `${ISSUER_PATH}/interaction/${interaction.uid}`,
      },
      routes: {
        authorization: '/authorize/',
        token: '/token/',
        userinfo: '/userinfo/',
        jwks: '/.well-known/jwks.json',
        introspection: '/introspect/',
        revocation: '/revoke_token/',
        end_session: '/logout/',
      },
      ttl: {
        AccessToken: accessTokenTtl,
        ClientCredentials: accessTokenTtl,
        AuthorizationCode: 60,
        IdToken: 3600,
        RefreshToken: 365 * 86400,
        Interaction: 600,
        Session: 86400,
        Grant: 365 * 86400,
      },
      renderError: async (ctx: { type: string; body: unknown }, out: Record<string, string>) => {
        ctx.type = 'json';
        ctx.body = out;
      },
    });
    provider.on('server_error', (_ctx, error) => options.onError?.(error));
    return provider;
  };
  let provider = buildProvider();
  let handle = provider.callback();

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // PeeringDB also answers discovery at the root of the host.
      if (req.url?.startsWith('/.well-known/openid-configuration')) req.url = `${ISSUER_PATH}${req.url}`;
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path === PROFILE_PATH || path === `${PROFILE_PATH}/`) return await profile(req, res);
      if (path.startsWith(`${ISSUER_PATH}/interaction/`)) {
        return await handleInteraction(provider, req, res, {
          path: path.slice(`${ISSUER_PATH}/interaction/`.length),
          accountByUsername: (username) => accounts.get(username),
          accountById,
          resourceScope: RESOURCE_SCOPE,
        });
      }
      if (path === ISSUER_PATH || path.startsWith(`${ISSUER_PATH}/`)) {
        // oidc-provider works out its mount point from the difference (PEERINGDB.md).
        (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
        req.url = (req.url ?? '').slice(ISSUER_PATH.length) || '/';
        return handle(req, res);
      }
      send(res, 404, { error: 'not_found' });
    } catch (error) {
      options.onError?.(error);
      if (!res.headersSent) send(res, 500, { error: 'server_error' });
      else res.destroy();
    }
  }

  async function profile(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (profileOutage) return send(res, 503, { error: 'temporarily unavailable' });
    const value = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = value === undefined ? undefined : await provider.AccessToken.find(value);
    const account = token?.scopes.has('profile') ? accountById(token.accountId) : undefined;
    // PeeringDB: 403 with an empty body for a bad, expired or under-scoped token.
    if (!token || !account) {
      res.writeHead(403, { 'content-length': '0' }).end();
      return;
    }
    send(res, 200, profileBody(account, token.scopes));
  }

  const rebuild = () => {
    provider = buildProvider();
    handle = provider.callback();
  };

  return {
    origin,
    issuer,
    addAccount(input) {
      const account = IssuerAccountSchema.parse(input);
      accounts.set(account.username, account);
      return account;
    },
    addClient(input) {
      const client = IssuerClientSchema.parse(input);
      if (client.account !== undefined && !accounts.has(client.account)) {
        throw new PeeringError('INVALID_CONFIG', `no account has username ${client.account}`, 'account');
      }
      clients.set(client.client_id, client);
      return client;
    },
    async rotateSigningKey() {
      const key = await newSigningKey();
      keys = [key, ...keys];
      rebuild();
      return key.kid;
    },
    async retirePreviousKeys() {
      keys = keys.slice(0, 1);
      rebuild();
    },
    publishedKeyIds: () => keys.map((k) => k.kid),
    setProfileOutage(on) {
      profileOutage = on;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** oidc-provider metadata for a fixture client. */
function clientMetadata(client: IssuerClient): AdapterPayload {
  const interactive = client.redirect_uris.length > 0;
  const loopbackOnly = interactive && client.redirect_uris.every((uri) => uri.startsWith('http://'));
  const grantTypes = [
    ...(interactive ? ['authorization_code'] : []),
    'refresh_token',
    ...(client.client_secret !== undefined ? ['client_credentials'] : []),
  ];
  return {
    client_id: client.client_id,
    ...(client.client_secret !== undefined
      ? { client_secret: client.client_secret, token_endpoint_auth_method: 'client_secret_post' }
      : { token_endpoint_auth_method: 'none' }),
    application_type: loopbackOnly || client.client_secret === undefined ? 'native' : 'web',
    redirect_uris: client.redirect_uris,
    response_types: interactive ? ['code'] : [],
    grant_types: grantTypes,
  };
}

async function newSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

function splitHostPort(listen: string): { host: string; port: number } {
  const separator = listen.lastIndexOf(':');
  const port = Number(listen.slice(separator + 1));
  if (separator <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new PeeringError('INVALID_CONFIG', `listen must be HOST:PORT, not ${listen}`, 'listen');
  }
  return { host: listen.slice(0, separator).replace(/^\[|\]$/g, ''), port };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    })
    .end(text);
}
