import { createHash, timingSafeEqual } from 'node:crypto';
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
}

/** `Bearer <token>` → token; anything else is unauthenticated (RFC 6750 §2.1). */
export function bearerToken(authorization: string | undefined): string {
  const match =
    authorization === undefined ? null : /^Bearer +([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(authorization);
  if (!match?.[1]) {
    throw new PeeringError(
      'UNAUTHENTICATED',
      authorization === undefined
        ? 'a bearer token is required'
        : 'the Authorization header is not a bearer token',
      'authorization',
    );
  }
  return match[1];
}

export interface StaticToken {
  token: string;
  subject: string;
  email?: string | undefined;
  networks: { asn: number; perms: number }[];
}

/**
 * Fixed tokens from the configuration: for the standalone demo and tests, or a last resort for a peer that
 * has no identity provider. Tokens are kept only as SHA-256 digests and compared in constant time.
 */
export class StaticTokenAuthenticator implements Authenticator {
  private readonly identities: { digest: Buffer; identity: Identity }[];

  constructor(tokens: StaticToken[]) {
    this.identities = tokens.map((t) => ({
      digest: digest(t.token),
      identity: {
        subject: t.subject,
        issuer: 'static',
        email: t.email,
        networks: new Map(t.networks.map((n) => [n.asn, n.perms])),
      },
    }));
  }

  async authenticate(authorization: string | undefined): Promise<Identity> {
    const presented = digest(bearerToken(authorization));
    const match = this.identities.find((entry) => timingSafeEqual(entry.digest, presented));
    if (!match) throw new PeeringError('UNAUTHENTICATED', 'the bearer token is not valid', 'authorization');
    return match.identity;
  }
}

/** Tries each authenticator in turn; the first that recognises the token wins. */
export class ChainAuthenticator implements Authenticator {
  constructor(private readonly chain: Authenticator[]) {}

  async authenticate(authorization: string | undefined): Promise<Identity> {
    let last: unknown = new PeeringError(
      'UNAUTHENTICATED',
      'no authentication is configured',
      'authorization',
    );
    for (const authenticator of this.chain) {
      try {
        return await authenticator.authenticate(authorization);
      } catch (error) {
        // An unreachable identity provider is not "wrong token": it must surface as 503, never be skipped over.
        if (error instanceof PeeringError && error.code === 'IDENTITY_PROVIDER_UNAVAILABLE') throw error;
        last = error;
      }
    }
    throw last;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
