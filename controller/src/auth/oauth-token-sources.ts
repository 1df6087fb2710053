import * as oidc from 'openid-client';
import { PeeringError } from '../domain/errors.js';
import type { DpopKey } from './dpop-key.js';
import {
  discoverIssuer,
  oauthFailure,
  requireDpopBound,
  type OAuthClientRegistration,
} from './oauth-client.js';
import { TokenFile, type StoredLogin } from './token-file.js';
import type { TokenSource } from './token-source.js';

/** How long before its expiry a cached access token is replaced; default one minute. */
const DEFAULT_MARGIN_MS = 60_000;
/** An access token whose lifetime the issuer did not state is reused this long. */
const UNKNOWN_LIFETIME_MS = 5 * 60_000;

interface Cached {
  value: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** A token, cached until `marginMs` before it expires; concurrent callers share one fetch. */
abstract class CachingTokenSource implements TokenSource {
  private cached: Cached | undefined;
  private inflight: Promise<string> | undefined;
  protected readonly marginMs: number;
  protected readonly now: () => number;

  constructor(options: { refreshMarginMs?: number | undefined; now?: (() => number) | undefined }) {
    this.marginMs = options.refreshMarginMs ?? DEFAULT_MARGIN_MS;
    this.now = options.now ?? Date.now;
  }

  async token(): Promise<string> {
    if (this.cached && this.cached.expiresAt - this.marginMs > this.now()) return this.cached.value;
    this.inflight ??= this.obtain()
      .then((fresh) => {
        this.cached = fresh;
        return fresh.value;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  invalidate(): void {
    if (this.cached) this.rejected(this.cached.value);
    this.cached = undefined;
  }

  /** A token the remote refused: subclasses that keep tokens elsewhere must not hand it out again. */
  protected rejected(_value: string): void {}

  protected abstract obtain(): Promise<Cached>;

  protected expiry(expiresInSeconds: number | undefined): number {
    return this.now() + (expiresInSeconds === undefined ? UNKNOWN_LIFETIME_MS : expiresInSeconds * 1000);
  }
}

export interface ClientCredentialsOptions extends OAuthClientRegistration {
  clientSecret: string;
  /** RFC 8707 resource indicator: the remote Peering API's URL, to get a JWT access token for it. */
  resource?: string | undefined;
  scope?: string | undefined;
  /** Ask for tokens bound to this key (RFC 9449 DPoP) instead of bearer tokens. */
  dpop?: DpopKey | undefined;
  refreshMarginMs?: number;
  now?: () => number;
}

/**
 * Access tokens through the OAuth 2.0 client credentials grant: a machine acting for itself, with a JWT
 * issuer that vouches for its networks (the draft's "client credentials, JWT scoped to the receiving API").
 *
 * @example
 * const source = new ClientCredentialsTokenSource({
 *   issuer: 'https://idp.example.net',
 *   clientId: 'as64501-automation',
 *   clientSecret: process.env.PEERING_CLIENT_SECRET!,
 *   resource: 'https://peering.example.com/v0.1',
 * });
 * const client = new PeeringApiClient({ apiUrl: 'https://peering.example.com/v0.1', auth: source });
 */
export class ClientCredentialsTokenSource extends CachingTokenSource {
  private configuration: Promise<oidc.Configuration> | undefined;
  private dpopHandle: oidc.DPoPHandle | undefined;
  readonly dpop: DpopKey | undefined;

  constructor(private readonly options: ClientCredentialsOptions) {
    super(options);
    this.dpop = options.dpop;
  }

  protected async obtain(): Promise<Cached> {
    this.configuration ??= discoverIssuer(this.options).catch((error: unknown) => {
      this.configuration = undefined;
      throw error;
    });
    const configuration = await this.configuration;
    const parameters: Record<string, string> = {};
    if (this.options.resource !== undefined) parameters.resource = this.options.resource;
    if (this.options.scope !== undefined) parameters.scope = this.options.scope;
    // openid-client signs the token request's proof and retries once with the issuer's nonce if it asks.
    if (this.dpop) this.dpopHandle ??= oidc.getDPoPHandle(configuration, this.dpop.keyPair);
    try {
      const answer = await oidc.clientCredentialsGrant(
        configuration,
        parameters,
        this.dpopHandle ? { DPoP: this.dpopHandle } : undefined,
      );
      requireDpopBound(answer.token_type, this.dpop !== undefined, this.options.issuer);
      return { value: answer.access_token, expiresAt: this.expiry(answer.expiresIn()) };
    } catch (error) {
      throw oauthFailure(error, `client credentials grant at ${this.options.issuer}`);
    }
  }
}

export interface RefreshTokenOptions {
  /** The login file `peeringctl login` wrote (see {@link loginWithAuthorizationCode}). */
  tokenFile: string;
  /** For a confidential client; public clients (peeringctl) have none. Never stored in the file. */
  clientSecret?: string | undefined;
  /** The DPoP key the login was made with, if it was (the file records its thumbprint). */
  dpop?: DpopKey | undefined;
  refreshMarginMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

/**
 * Access tokens through the refresh token grant: PeeringDB's path, where a person logs in once and the
 * refresh token then serves a machine. The issuer rotates the refresh token on every use; the new one replaces
 * the old in the login file (mode 0600) before the access token is handed out, under a lock shared by every
 * process using that file, so a crash or a second process never leaves a spent refresh token behind.
 *
 * @example
 * const source = new RefreshTokenSource({ tokenFile: `${homedir()}/.config/peeringctl/login.json` });
 * const token = await source.token();
 */
export class RefreshTokenSource extends CachingTokenSource {
  private readonly file: TokenFile;
  private refused: string | undefined;
  private dpopHandle: oidc.DPoPHandle | undefined;
  readonly dpop: DpopKey | undefined;
  private configuration: { issuer: string; clientId: string; value: Promise<oidc.Configuration> } | undefined;

  constructor(private readonly options: RefreshTokenOptions) {
    super(options);
    this.file = new TokenFile(options.tokenFile);
    this.dpop = options.dpop;
  }

  protected async obtain(): Promise<Cached> {
    return this.file.update(async (login) => {
      const jkt = this.dpop?.thumbprint;
      // Tokens bound to a key are useless with another (or none), and a bound refresh token cannot be spent.
      if (login.dpop_jkt !== undefined && login.dpop_jkt !== jkt) {
        throw new PeeringError(
          'UNAUTHENTICATED',
          `the login of ${this.options.tokenFile} is bound to a DPoP key ${jkt === undefined ? 'and none was given' : 'other than the one given'}; give the key it was made with (--dpop-key) or run peeringctl login again`,
          'dpop',
        );
      }
      // Another process may have refreshed moments ago: its access token is as good as ours.
      if (
        login.dpop_jkt === jkt &&
        login.access_token !== undefined &&
        login.expires_at !== undefined &&
        login.access_token !== this.refused
      ) {
        const expiresAt = login.expires_at * 1000;
        if (expiresAt - this.marginMs > this.now())
          return { result: { value: login.access_token, expiresAt } };
      }
      const configuration = await this.configurationFor(login);
      const parameters: Record<string, string> = {};
      if (login.resource !== undefined) parameters.resource = login.resource;
      let answer: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
      if (this.dpop) this.dpopHandle ??= oidc.getDPoPHandle(configuration, this.dpop.keyPair);
      try {
        answer = await oidc.refreshTokenGrant(
          configuration,
          login.refresh_token,
          parameters,
          this.dpopHandle ? { DPoP: this.dpopHandle } : undefined,
        );
      } catch (error) {
        throw oauthFailure(
          error,
          `refreshing the login of ${this.options.tokenFile}; run peeringctl login again`,
        );
      }
      requireDpopBound(answer.token_type, this.dpop !== undefined, login.issuer);
      const expiresAt = this.expiry(answer.expiresIn());
      const updated: StoredLogin = {
        ...login,
        refresh_token: answer.refresh_token ?? login.refresh_token,
        access_token: answer.access_token,
        expires_at: Math.floor(expiresAt / 1000),
        dpop_jkt: jkt,
      };
      return { login: updated, result: { value: answer.access_token, expiresAt } };
    });
  }

  protected override rejected(value: string): void {
    this.refused = value;
  }

  private configurationFor(login: StoredLogin): Promise<oidc.Configuration> {
    const current = this.configuration;
    if (current && current.issuer === login.issuer && current.clientId === login.client_id)
      return current.value;
    const value = discoverIssuer({
      issuer: login.issuer,
      clientId: login.client_id,
      clientSecret: this.options.clientSecret,
      fetch: this.options.fetch,
    });
    this.configuration = { issuer: login.issuer, clientId: login.client_id, value };
    value.catch(() => {
      if (this.configuration?.value === value) this.configuration = undefined;
    });
    return value;
  }
}
