import {
  createLocalJWKSet,
  errors as joseErrors,
  type JSONWebKeySet,
  type JWK,
  type JWTHeaderParameters,
  type FlattenedJWSInput,
} from 'jose';
import { z } from 'zod';
import { PeeringError } from '../domain/errors.js';
import { isSecureUrl } from './secure-url.js';

export interface IssuerKeysOptions {
  /** The issuer identifier, exactly as its discovery document and its tokens state it. */
  issuer: string;
  /** Keys older than this are fetched again, so a key the issuer stopped publishing stops working. */
  maxAgeMs?: number;
  /** At most one fetch per this interval, whatever arrives (unknown `kid`s cannot make us hammer the issuer). */
  cooldownMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

const MetadataSchema = z.object({ issuer: z.string(), jwks_uri: z.url() });
const JwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });
/** Signature keys only: a symmetric (`oct`) key in a public key set is never used (RFC 8725 §3.1). */
const ASYMMETRIC = new Set(['RSA', 'EC', 'OKP']);

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

/**
 * An issuer's signing keys, found through its discovery document and kept in memory. The key set is fetched
 * again when it is older than `maxAgeMs` or when a token names a `kid` we do not know (a rotation), but never
 * more often than once per `cooldownMs`. When the issuer cannot be reached the answer is
 * `IDENTITY_PROVIDER_UNAVAILABLE`, never a stale or a missing check.
 *
 * @example
 * const keys = new IssuerKeys({ issuer: 'https://idp.example.net' });
 * await jwtVerify(token, (header, token) => keys.keyFor(header, token), { issuer: keys.issuer });
 */
export class IssuerKeys {
  readonly issuer: string;
  private readonly maxAgeMs: number;
  private readonly cooldownMs: number;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private jwksUri: string | undefined;
  private resolver: KeyResolver | undefined;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private loads = 0;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;

  constructor(options: IssuerKeysOptions) {
    this.issuer = options.issuer;
    this.maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
  }

  /**
   * Which key set verifications are made against: changes with every fetch, and is `undefined` while the key
   * set is missing or older than `maxAgeMs`. A verdict reached under one generation is worth no more than it.
   */
  get generation(): number | undefined {
    return this.resolver !== undefined && this.now() - this.fetchedAt < this.maxAgeMs
      ? this.loads
      : undefined;
  }

  /** The verification key for a token's protected header; fetches the key set when needed. */
  async keyFor(header: JWTHeaderParameters, token: FlattenedJWSInput): ReturnType<KeyResolver> {
    if (this.resolver === undefined || this.now() - this.fetchedAt >= this.maxAgeMs) {
      await this.refresh(false);
    }
    try {
      return await (this.resolver as KeyResolver)(header, token);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
      // A kid we have not seen: the issuer may have rotated its keys since we last looked.
      if (!(await this.refresh(true))) throw error;
      return (this.resolver as KeyResolver)(header, token);
    }
  }

  /** Fetches the key set unless one was fetched less than `cooldownMs` ago; `false` when it did not fetch. */
  private async refresh(optional: boolean): Promise<boolean> {
    if (this.inflight) {
      await this.inflight;
      return true;
    }
    if (this.now() - this.attemptedAt < this.cooldownMs) {
      if (optional) return false;
      // The last attempt failed moments ago: answer at once rather than knock again.
      if (this.resolver === undefined || this.now() - this.fetchedAt >= this.maxAgeMs)
        throw this.unavailable();
      return false;
    }
    this.attemptedAt = this.now();
    this.inflight = this.load().finally(() => {
      this.inflight = undefined;
    });
    await this.inflight;
    return true;
  }

  private async load(): Promise<void> {
    this.jwksUri ??= await this.discover();
    const jwks = JwksSchema.safeParse(await this.getJson(this.jwksUri));
    if (!jwks.success) throw this.unavailable('its key set is not a JWKS');
    const keys = jwks.data.keys.filter(
      (key) => ASYMMETRIC.has(String(key.kty)) && (key.use === undefined || key.use === 'sig'),
    ) as JWK[];
    this.resolver = createLocalJWKSet({ keys } satisfies JSONWebKeySet);
    this.fetchedAt = this.now();
    this.loads++;
  }

  /** OpenID Connect discovery, then RFC 8414's location; the document must name exactly this issuer. */
  private async discover(): Promise<string> {
    const issuer = new URL(this.issuer);
    const path = issuer.pathname.replace(/\/$/, '');
    const candidates = [
      `${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
      `${issuer.origin}/.well-known/oauth-authorization-server${path}`,
    ];
    let lastError: PeeringError | undefined;
    for (const url of candidates) {
      try {
        const metadata = MetadataSchema.safeParse(await this.getJson(url));
        if (!metadata.success) throw this.unavailable('its discovery document has no issuer or jwks_uri');
        if (metadata.data.issuer !== this.issuer) {
          throw this.unavailable(`its discovery document names another issuer (${metadata.data.issuer})`);
        }
        if (!isSecureUrl(metadata.data.jwks_uri)) throw this.unavailable('its jwks_uri is not https');
        return metadata.data.jwks_uri;
      } catch (error) {
        lastError = error as PeeringError;
      }
    }
    throw lastError as PeeringError;
  }

  private async getJson(url: string): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetch(url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw this.unavailable('it cannot be reached', cause);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw this.unavailable(`it answered ${response.status}`);
    }
    try {
      return await response.json();
    } catch (cause) {
      throw this.unavailable('it did not answer JSON', cause);
    }
  }

  /** The caller learns only that verification is impossible now; the why is for the operator's log. */
  private unavailable(why = 'it could not be reached moments ago', cause?: unknown): PeeringError {
    return new PeeringError(
      'IDENTITY_PROVIDER_UNAVAILABLE',
      'the identity provider cannot be reached to verify the token; try again later',
      'authorization',
      { cause: new Error(`token issuer ${this.issuer}: ${why}`, { cause }) },
    );
  }
}
