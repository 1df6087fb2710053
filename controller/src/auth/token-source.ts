import type { DpopKey } from './dpop-key.js';

/**
 * Where an outbound call gets its bearer token. Implementations: a fixed token, OAuth 2.0 client credentials,
 * or a refresh token (PeeringDB's path); each caches its token until shortly before it expires.
 */
export interface TokenSource {
  /**
   * Set when the tokens are DPoP-bound (RFC 9449) to this key: each request then carries them as
   * `Authorization: DPoP` with a fresh proof signed by it.
   */
  readonly dpop?: DpopKey | undefined;
  /** A currently valid access token. */
  token(): Promise<string>;
  /** Forget the cached token (e.g. after the remote answered 401), so the next call fetches a fresh one. */
  invalidate?(): void;
}

/** A fixed bearer token (from a flag, an environment variable or a Kubernetes Secret). */
export class StaticTokenSource implements TokenSource {
  /** `dpop`: the key a bound token was issued for, to sign its proofs with. */
  constructor(
    private readonly value: string,
    readonly dpop?: DpopKey,
  ) {}

  async token(): Promise<string> {
    return this.value;
  }
}
