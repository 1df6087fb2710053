import { z } from 'zod';
import { PeeringError } from '../domain/errors.js';
import { AsnSchema } from '../domain/session.js';
import {
  bearerToken,
  networkPermissions,
  TokenNotRecognised,
  PresentedToken,
  type Authenticator,
  type Identity,
} from './identity.js';
import { requireSecureUrl } from './secure-url.js';

export interface PeeringDbVerifierOptions {
  /** The host whose `GET /profile/v1` answers for its opaque access tokens, e.g. `https://auth.peeringdb.com`. */
  url: string;
  /** How long a positive answer is reused; default 5 minutes. */
  cacheTtlMs?: number;
  /** How long the issuer's access tokens live (PeeringDB: 10 hours): no answer is reused beyond that. */
  tokenLifetimeMs?: number;
  /** Most answers kept at once; the oldest go first. Default 10,000. */
  maxCacheEntries?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

/** PeeringDB's `/profile/v1` body, as far as a receiver relies on it (PEERINGDB.md). */
const ProfileSchema = z.object({
  id: z.union([z.number().int(), z.string().min(1)]),
  verified_user: z.boolean(),
  email: z.string().optional(),
  networks: z
    .array(
      z.object({
        asn: AsnSchema,
        perms: z.number().int().min(0).max(15),
        manage_peering_sessions: z.number().int().min(0).max(15).optional(),
      }),
    )
    .default([]),
});

/** PeeringDB's tokens are 30 characters; anything far longer, or shaped like a JWS, is not one of its tokens. */
const OPAQUE_TOKEN = /^[A-Za-z0-9\-._~+/]{16,512}=*$/;
const JWS_SHAPE = /^[^.]+\.[^.]+\.[^.]*$/;

interface CachedAnswer {
  identity: Identity;
  expiresAt: number;
}

/**
 * Verifies PeeringDB's opaque access tokens by asking PeeringDB who holds them (`GET {url}/profile/v1`). The
 * holder must be a verified user; each network it lists grants what PEERINGDB.md's rule says. Positive
 * answers are cached under the SHA-256 of the token (never the token) for at most `cacheTtlMs`, and never past
 * `tokenLifetimeMs` after the token was first seen. An unreachable or confused PeeringDB yields
 * `IDENTITY_PROVIDER_UNAVAILABLE` (503): nobody is let in on a guess.
 *
 * @example
 * const verifier = new PeeringDbProfileVerifier({ url: 'https://auth.peeringdb.com' });
 * const identity = await verifier.authenticate('Bearer 3xAmPl3t0k3n...');
 */
export class PeeringDbProfileVerifier implements Authenticator {
  private readonly profileUrl: string;
  private readonly cacheTtlMs: number;
  private readonly tokenLifetimeMs: number;
  private readonly maxCacheEntries: number;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly cache = new Map<string, CachedAnswer>();
  /** When each token was first seen, by digest: bounds the cache by the token's longest possible life. */
  private readonly firstSeen = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<Identity>>();

  constructor(private readonly options: PeeringDbVerifierOptions) {
    requireSecureUrl(options.url, 'url');
    this.profileUrl = `${options.url.replace(/\/+$/, '')}/profile/v1`;
    this.cacheTtlMs = options.cacheTtlMs ?? 5 * 60_000;
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? 10 * 3_600_000;
    this.maxCacheEntries = options.maxCacheEntries ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
  }

  async authenticate(authorization: string | undefined): Promise<Identity> {
    const token = bearerToken(authorization);
    if (!OPAQUE_TOKEN.test(token) || JWS_SHAPE.test(token)) throw TokenNotRecognised.shared;
    const presented = new PresentedToken(token);
    const cached = this.known(presented);
    if (cached) return cached;
    const key = presented.digest;
    // Concurrent requests with one token share one call to PeeringDB.
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.lookUp(key, token).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  known(token: PresentedToken): Identity | undefined {
    const cached = this.cache.get(token.digest);
    if (!cached) return undefined;
    if (cached.expiresAt > this.now()) return cached.identity;
    this.cache.delete(token.digest);
    return undefined;
  }

  private async lookUp(key: string, token: string): Promise<Identity> {
    const askedAt = this.now();
    let response: Response;
    try {
      response = await this.fetch(this.profileUrl, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        // A redirect would carry the token to a host we did not choose.
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw this.unavailable('it cannot be reached', cause);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new PeeringError(
        'UNAUTHENTICATED',
        'the PeeringDB access token is not valid (expired, revoked, or without the profile scope)',
        'authorization',
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw this.unavailable(`it answered ${response.status}`);
    }
    let profile: z.output<typeof ProfileSchema>;
    try {
      const parsed = ProfileSchema.safeParse(await response.json());
      if (!parsed.success) throw parsed.error;
      profile = parsed.data;
    } catch (cause) {
      throw this.unavailable('its profile answer is not what PeeringDB sends', cause);
    }
    if (!profile.verified_user) {
      throw new PeeringError(
        'FORBIDDEN_ASN',
        'your PeeringDB account is not a verified user; PeeringDB vouches for no network of it',
        'authorization',
      );
    }
    const networks = new Map<number, number>();
    for (const n of profile.networks) {
      networks.set(
        n.asn,
        (networks.get(n.asn) ?? 0) | networkPermissions(n.perms, n.manage_peering_sessions),
      );
    }
    const identity: Identity = {
      subject: String(profile.id),
      issuer: this.options.url,
      email: profile.email,
      networks,
    };
    this.remember(key, identity, askedAt);
    return identity;
  }

  private remember(key: string, identity: Identity, askedAt: number): void {
    const firstSeen = this.firstSeen.get(key) ?? askedAt;
    const expiresAt = Math.min(askedAt + this.cacheTtlMs, firstSeen + this.tokenLifetimeMs);
    if (expiresAt <= this.now()) return;
    // Map order is insertion order: the first entries are the oldest.
    while (this.cache.size >= this.maxCacheEntries) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
    while (this.firstSeen.size >= this.maxCacheEntries * 2) {
      this.firstSeen.delete(this.firstSeen.keys().next().value as string);
    }
    this.firstSeen.set(key, firstSeen);
    this.cache.set(key, { identity, expiresAt });
  }

  /** The caller learns only that verification is impossible now; the why is for the operator's log. */
  private unavailable(why: string, cause?: unknown): PeeringError {
    return new PeeringError(
      'IDENTITY_PROVIDER_UNAVAILABLE',
      'PeeringDB cannot be reached to verify the token; try again later',
      'authorization',
      { cause: new Error(`PeeringDB profile at ${this.profileUrl}: ${why}`, { cause }) },
    );
  }
}
