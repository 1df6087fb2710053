import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { PeeringError } from '../domain/errors.js';
import { AsnSchema } from '../domain/session.js';
import {
  bearerToken,
  networkPermissions,
  PERMISSION,
  TokenNotRecognised,
  PresentedToken,
  type Authenticator,
  type Identity,
} from './identity.js';
import { IssuerKeys } from './issuer-keys.js';
import { requireSecureUrl } from './secure-url.js';

/** Asymmetric JWS algorithms only: `none` and HMAC can never be configured (RFC 8725 §3.1, §3.2). */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  // RFC 9864's fully-specified name for EdDSA over Ed25519, which panva's dpop (2.x) puts in its proofs.
  'Ed25519',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export interface JwtVerifierOptions {
  /** The trusted issuer; tokens must carry exactly this `iss`. */
  issuer: string;
  /** Our Peering API's public URL (`apiUrl` of the configuration): tokens must carry it in `aud`. */
  audience: string;
  /** Default `RS256`, `ES256`, `EdDSA`. */
  algorithms?: readonly JwtAlgorithm[];
  /** Leeway for `exp`, `nbf` and `iat` against clock drift; default 30 s. */
  clockToleranceSeconds?: number;
  /** Dotted path of the claim listing the caller's networks; default `networks` (PeeringDB's shape). */
  networksClaim?: string;
  /** See {@link IssuerKeys}: key set age and refresh rate limit. */
  jwksMaxAgeMs?: number;
  jwksCooldownMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

/** Verdicts kept for byte-identical tokens, so a client reusing its token costs a hash, not a signature check. */
const VERIFIED_CACHE_ENTRIES = 10_000;
const VERIFIED_CACHE_MS = 60_000;

interface Verified {
  identity: Identity;
  expiresAt: number;
  generation: number;
}

/** A bearer token larger than this is no access token of ours; refusing it early bounds the work it costs. */
const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * One entry of the networks claim: PeeringDB's `{asn, perms, manage_peering_sessions}` (permission bits), or
 * a bare ASN, which an issuer states only for networks the holder manages (all rights).
 */
const NetworkClaimSchema = z.array(
  z.union([
    z.looseObject({
      asn: AsnSchema,
      perms: z.number().int().min(0).max(15).optional(),
      manage_peering_sessions: z.number().int().min(0).max(15).optional(),
    }),
    AsnSchema,
    z
      .string()
      .regex(/^(AS)?\d{1,10}$/i)
      .transform((s) => Number(s.replace(/^AS/i, '')))
      .pipe(AsnSchema),
  ]),
);

/**
 * Verifies RFC 9068 JWT access tokens of one trusted issuer: the signature against the issuer's published
 * keys (found through discovery), `typ: at+jwt`, the exact `iss`, our API URL in `aud`, `exp`/`nbf`/`iat`
 * within a small clock tolerance, and an algorithm from an allow-list of asymmetric ones. Tokens of other
 * issuers are declined as {@link TokenNotRecognised} before any key is fetched.
 *
 * @example
 * const verifier = new JwtAccessTokenVerifier({
 *   issuer: 'https://idp.example.net',
 *   audience: 'https://peering.example.net/v0.1',
 * });
 * const identity = await verifier.authenticate(request.headers.authorization);
 */
export class JwtAccessTokenVerifier implements Authenticator {
  private readonly keys: IssuerKeys;
  private readonly algorithms: readonly JwtAlgorithm[];
  private readonly clockTolerance: number;
  private readonly claimPath: string[];
  private readonly now: () => number;
  private readonly verified = new Map<string, Verified>();

  constructor(private readonly options: JwtVerifierOptions) {
    requireSecureUrl(options.issuer, 'issuer');
    this.algorithms = options.algorithms ?? ['RS256', 'ES256', 'EdDSA'];
    const forbidden = this.algorithms.filter((alg) => !(JWT_ALGORITHMS as readonly string[]).includes(alg));
    if (forbidden.length > 0 || this.algorithms.length === 0) {
      throw new PeeringError(
        'INVALID_CONFIG',
        `algorithms must be asymmetric JWS algorithms (${JWT_ALGORITHMS.join(', ')}); not ${forbidden.join(', ') || 'an empty list'}`,
        'algorithms',
      );
    }
    this.clockTolerance = options.clockToleranceSeconds ?? 30;
    this.claimPath = (options.networksClaim ?? 'networks').split('.');
    this.now = options.now ?? Date.now;
    this.keys = new IssuerKeys({
      issuer: options.issuer,
      maxAgeMs: options.jwksMaxAgeMs,
      cooldownMs: options.jwksCooldownMs,
      timeoutMs: options.timeoutMs,
      fetch: options.fetch,
      now: this.now,
    });
  }

  get issuer(): string {
    return this.options.issuer;
  }

  async authenticate(authorization: string | undefined): Promise<Identity> {
    const token = bearerToken(authorization);
    if (token.length > MAX_TOKEN_LENGTH || !isJwsShaped(token)) throw TokenNotRecognised.shared;
    const presented = new PresentedToken(token);
    const known = this.known(presented);
    if (known) return known;
    const digest = presented.digest;
    const generation = this.keys.generation;
    const { identity, expiresAt } = await this.verify(token);
    // A key set fetched meanwhile may lack the key this verdict rests on: keep only verdicts of a steady set.
    if (generation !== undefined && generation === this.keys.generation) {
      this.remember(digest, identity, expiresAt, generation);
    }
    return identity;
  }

  known(token: PresentedToken): Identity | undefined {
    const verdict = this.verified.get(token.digest);
    if (!verdict) return undefined;
    if (verdict.expiresAt > this.now() && verdict.generation === this.keys.generation)
      return verdict.identity;
    this.verified.delete(token.digest);
    return undefined;
  }

  /**
   * Keeps a verdict at most a minute, never past the token's `exp`, and only while the key set it was checked
   * against is current: a rotation, or the key set ageing out, sends the token through a full check again.
   */
  private remember(digest: string, identity: Identity, tokenExpiresAt: number, generation: number): void {
    if (this.verified.size >= VERIFIED_CACHE_ENTRIES) {
      this.verified.delete(this.verified.keys().next().value as string);
    }
    this.verified.set(digest, {
      identity,
      expiresAt: Math.min(tokenExpiresAt, this.now() + VERIFIED_CACHE_MS),
      generation,
    });
  }

  private async verify(token: string): Promise<{ identity: Identity; expiresAt: number }> {
    let claimedIssuer: unknown;
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
      claimedIssuer = decodeJwt(token).iss;
    } catch {
      throw TokenNotRecognised.shared;
    }
    // Not ours: decline before fetching anything, so foreign tokens cost no call to the issuer.
    if (claimedIssuer !== this.options.issuer) throw TokenNotRecognised.shared;
    if (typeof header.alg !== 'string' || !(this.algorithms as readonly string[]).includes(header.alg)) {
      throw invalid('the access token is signed with an algorithm this server does not accept');
    }

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (h, t) => this.keys.keyFor(h, t), {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: [...this.algorithms],
        typ: 'at+jwt',
        clockTolerance: this.clockTolerance,
        currentDate: new Date(this.now()),
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
      }));
    } catch (error) {
      throw verdict(error);
    }
    // jose checks `iat` only against a maximum age; a token "issued" in the future is forged or from a broken
    // clock, either way not to be trusted.
    if ((payload.iat as number) > this.now() / 1000 + this.clockTolerance) {
      throw invalid('the access token is issued in the future');
    }
    const identity: Identity = {
      subject: String(payload.sub),
      issuer: this.options.issuer,
      email: typeof payload.email === 'string' ? payload.email : undefined,
      networks: this.networksOf(payload),
      boundKey: boundKeyOf(payload),
    };
    return { identity, expiresAt: (payload.exp as number) * 1000 };
  }

  private networksOf(payload: JWTPayload): Map<number, number> {
    let claim: unknown = payload;
    for (const key of this.claimPath) {
      claim =
        claim !== null && typeof claim === 'object' ? (claim as Record<string, unknown>)[key] : undefined;
    }
    // No claim: a valid caller that holds no network, so every ASN-scoped operation answers 403.
    if (claim === undefined) return new Map();
    const parsed = NetworkClaimSchema.safeParse(claim);
    if (!parsed.success) throw invalid(`the access token's ${this.claimPath.join('.')} claim is not valid`);
    const networks = new Map<number, number>();
    for (const entry of parsed.data) {
      const [asn, bits] =
        typeof entry === 'number'
          ? [entry, PERMISSION.read | PERMISSION.update | PERMISSION.create | PERMISSION.delete]
          : [entry.asn, networkPermissions(entry.perms, entry.manage_peering_sessions)];
      networks.set(asn, (networks.get(asn) ?? 0) | bits);
    }
    return networks;
  }
}

/**
 * `cnf.jkt` of a DPoP-bound token (RFC 9449 §6.1). A `cnf` that names no usable thumbprint is refused rather
 * than ignored: a token meant to be bound must never pass as a bearer token.
 */
function boundKeyOf(payload: JWTPayload): string | undefined {
  const cnf = payload.cnf;
  if (cnf === undefined) return undefined;
  const jkt = cnf !== null && typeof cnf === 'object' ? (cnf as Record<string, unknown>).jkt : undefined;
  if (jkt === undefined && cnf !== null && typeof cnf === 'object') return undefined;
  if (typeof jkt !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(jkt)) {
    throw invalid("the access token's cnf.jkt claim is not a SHA-256 JWK thumbprint");
  }
  return jkt;
}

function invalid(message: string): PeeringError {
  return new PeeringError('UNAUTHENTICATED', message, 'authorization');
}

/** jose's verdict as a short reason for the caller (RFC 6750 `error_description`), with no token content. */
function verdict(error: unknown): PeeringError {
  if (error instanceof PeeringError) return error;
  if (error instanceof joseErrors.JWTExpired) return invalid('the access token has expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return error.claim === 'nbf'
      ? invalid('the access token is not valid yet')
      : invalid(`the access token's ${error.claim} claim is not valid`);
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) {
    return invalid('the access token is signed with a key the issuer does not publish');
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return invalid('the access token signature is not valid');
  }
  return invalid('the access token is not valid');
}

/** Three dot-separated parts (JWS compact form); jose checks their content. Cheaper than a regex per request. */
function isJwsShaped(token: string): boolean {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  return first > 0 && second > first + 1 && token.indexOf('.', second + 1) === -1;
}
