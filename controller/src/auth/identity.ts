import { hash } from 'node:crypto';
import { PeeringError } from '../domain/errors.js';

/** PeeringDB permission bits (its code, not its diagram): read 1, update 2, create 4, delete 8. */
export const PERMISSION = { read: 1, update: 2, create: 4, delete: 8 } as const;

/** Who is calling, and for which networks with which permissions. */
export interface Identity {
  /** Stable subject of the token (`sub`, or PeeringDB's user id). */
  subject: string;
  issuer: string;
  email?: string | undefined;
  /** ASN → permission bits. */
  networks: ReadonlyMap<number, number>;
  /**
   * The JWK SHA-256 thumbprint the token is bound to (`cnf.jkt`, RFC 9449 §6): only the holder of that key may
   * use the token, with a DPoP proof on every request. Absent for plain bearer tokens.
   */
  boundKey?: string | undefined;
}

/** The caller may read sessions of `asn`. */
export function canRead(identity: Identity, asn: number): boolean {
  return (
    ((identity.networks.get(asn) ?? 0) & (PERMISSION.read | PERMISSION.update | PERMISSION.create)) !== 0
  );
}

/** The caller may request or remove sessions for `asn` (PEERINGDB.md: create or update). */
export function canWrite(identity: Identity, asn: number): boolean {
  return ((identity.networks.get(asn) ?? 0) & (PERMISSION.update | PERMISSION.create)) !== 0;
}

/**
 * The permission bits a PeeringDB-shaped network entry grants (PEERINGDB.md): write rights (update, create,
 * delete) come from `manage_peering_sessions`, or from `perms` when that field is absent; read from either.
 *
 * @example
 * networkPermissions(1, undefined); // 1: a plain member reads
 * networkPermissions(15, 1); // 1: an admin of the org without the peering-sessions right only reads
 */
export function networkPermissions(
  perms: number | undefined,
  managePeeringSessions: number | undefined,
): number {
  const write = PERMISSION.update | PERMISSION.create | PERMISSION.delete;
  const writeBits = (managePeeringSessions ?? perms ?? 0) & write;
  const readBit = ((perms ?? 0) | (managePeeringSessions ?? 0)) & PERMISSION.read;
  return writeBits | readBit;
}

export function readableAsns(identity: Identity): number[] {
  return [...identity.networks.keys()].filter((asn) => canRead(identity, asn)).sort((a, b) => a - b);
}

/** The audit line stored with each write; never the token. */
export function auditName(identity: Identity): string {
  const who = identity.email ? `${identity.subject} <${identity.email}>` : identity.subject;
  return `${who} via ${identity.issuer}`;
}

/** Turns an `Authorization` header into an identity, or throws `UNAUTHENTICATED` / `IDENTITY_PROVIDER_UNAVAILABLE`. */
export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Identity>;
  /**
   * The identity this authenticator already holds a verdict for (a configured token, a verification still
   * cached), without I/O or signature checks; undefined when it would have to work it out. Every request asks
   * this first, so it must be cheap.
   */
  known?(token: PresentedToken): Identity | undefined;
}

/** A bearer token as presented, its digest computed at most once however many authenticators look it up. */
export class PresentedToken {
  private hashed: string | undefined;

  constructor(readonly value: string) {}

  get digest(): string {
    this.hashed ??= tokenDigest(this.value);
    return this.hashed;
  }
}

/**
 * "This token is not mine": thrown by an authenticator for a token of another kind or issuer, so that a
 * {@link ChainAuthenticator} reports the verdict of the authenticator that did recognise the token (say, "the
 * access token has expired") rather than the last one's.
 *
 * @example
 * if (claims.iss !== this.issuer) throw TokenNotRecognised.shared;
 */
export class TokenNotRecognised extends PeeringError {
  constructor(message = 'the bearer token is not valid') {
    super('UNAUTHENTICATED', message, 'authorization');
  }

  /**
   * One shared instance: every request whose token belongs to a later authenticator of the chain passes
   * through "not mine", and capturing a stack trace each time cost more than verifying a cached JWT.
   */
  static readonly shared: TokenNotRecognised = Object.freeze(new TokenNotRecognised());
}

/** `Bearer <token>` → token; anything else is unauthenticated (RFC 6750 §2.1). */
export function bearerToken(authorization: string | undefined): string {
  const token = bearerTokenOrUndefined(authorization);
  if (token === undefined) {
    throw new PeeringError(
      'UNAUTHENTICATED',
      authorization === undefined
        ? 'a bearer token is required'
        : 'the Authorization header is not a bearer token',
      'authorization',
    );
  }
  return token;
}

function bearerTokenOrUndefined(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)\s*$/i;

export interface StaticToken {
  token: string;
  subject: string;
  email?: string | undefined;
  networks: { asn: number; perms: number }[];
}

/**
 * Fixed tokens from the configuration: for the standalone demo and tests, or a last resort for a peer that
 * has no identity provider. Tokens are kept only as SHA-256 digests. A presented token is looked up by its
 * digest: how far a guess's digest matches a stored one says nothing about the token, so the lookup's timing
 * leaks nothing a constant-time comparison would protect, and it costs the same for one token or thousands.
 */
export class StaticTokenAuthenticator implements Authenticator {
  private readonly identities: Map<string, Identity>;

  constructor(tokens: StaticToken[]) {
    this.identities = new Map(
      tokens.map((t) => [
        tokenDigest(t.token),
        {
          subject: t.subject,
          issuer: 'static',
          email: t.email,
          networks: new Map(t.networks.map((n) => [n.asn, n.perms])),
        },
      ]),
    );
  }

  async authenticate(authorization: string | undefined): Promise<Identity> {
    const identity = this.known(new PresentedToken(bearerToken(authorization)));
    if (!identity) throw TokenNotRecognised.shared;
    return identity;
  }

  known(token: PresentedToken): Identity | undefined {
    return this.identities.get(token.digest);
  }
}

/**
 * Tries each authenticator in turn; the first that accepts the token wins. When none does, the error of the
 * first one that recognised the token (did not throw {@link TokenNotRecognised}) is reported, else the last.
 */
export class ChainAuthenticator implements Authenticator {
  constructor(private readonly chain: Authenticator[]) {}

  async authenticate(authorization: string | undefined): Promise<Identity> {
    // Known verdicts first: the usual request carries a token seen a moment ago, and walking the chain for it
    // would cost every earlier authenticator's "not mine" rejection.
    const token = bearerTokenOrUndefined(authorization);
    if (token !== undefined) {
      const presented = new PresentedToken(token);
      for (const authenticator of this.chain) {
        const identity = authenticator.known?.(presented);
        if (identity) return identity;
      }
    }
    let last: unknown;
    let recognised: unknown;
    for (const authenticator of this.chain) {
      try {
        return await authenticator.authenticate(authorization);
      } catch (error) {
        // An unreachable identity provider is not "wrong token": it must surface as 503, never be skipped over.
        if (error instanceof PeeringError && error.code === 'IDENTITY_PROVIDER_UNAVAILABLE') throw error;
        if (recognised === undefined && !(error instanceof TokenNotRecognised)) recognised = error;
        last = error;
      }
    }
    throw (
      recognised ??
      last ??
      new PeeringError('UNAUTHENTICATED', 'no authentication is configured', 'authorization')
    );
  }
}

/**
 * SHA-256 of a token, base64url: the key under which tokens and verdicts are kept, so no cache holds a token.
 * The one-shot `hash` costs a fifth of `createHash(...).update(...).digest()`, and this runs on every request.
 */
export function tokenDigest(token: string): string {
  return hash('sha256', token, 'base64url');
}
