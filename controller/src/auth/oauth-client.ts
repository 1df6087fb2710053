import * as oidc from 'openid-client';
import { PeeringError } from '../domain/errors.js';
import { isLoopbackUrl, requireSecureUrl } from './secure-url.js';

/** Who we are at an issuer: its identifier and our client registration there. */
export interface OAuthClientRegistration {
  /** The issuer identifier, e.g. `https://auth.peeringdb.com/oauth2`. */
  issuer: string;
  clientId: string;
  /** Absent for a public client (a native app such as peeringctl, which proves itself with PKCE). */
  clientSecret?: string | undefined;
  /** Replaces the network for tests. */
  fetch?: typeof fetch;
}

/**
 * Discovers the issuer's metadata (OpenID Connect discovery, issuer checked exactly) and returns an
 * openid-client configuration. openid-client 6 refuses plain http; we lift that only for loopback issuers (a
 * local issuer in a test or a demo), never for a remote one.
 *
 * @example
 * const config = await discoverIssuer({ issuer: 'https://auth.peeringdb.com/oauth2', clientId: 'abc' });
 */
export async function discoverIssuer(registration: OAuthClientRegistration): Promise<oidc.Configuration> {
  const url = requireSecureUrl(registration.issuer, 'issuer');
  const execute = url.protocol === 'http:' && isLoopbackUrl(url) ? [oidc.allowInsecureRequests] : [];
  const auth =
    registration.clientSecret === undefined ? oidc.None() : oidc.ClientSecretPost(registration.clientSecret);
  try {
    return await oidc.discovery(url, registration.clientId, registration.clientSecret, auth, {
      execute,
      ...(registration.fetch ? { [oidc.customFetch]: registration.fetch as oidc.CustomFetch } : {}),
      timeout: 10,
    });
  } catch (error) {
    throw oauthFailure(error, `cannot discover the issuer ${registration.issuer}`);
  }
}

/** Errors the issuer states about the grant itself: a person has to log in (again), a retry will not help. */
const GRANT_ERRORS = new Set([
  'invalid_grant',
  'invalid_client',
  'unauthorized_client',
  'access_denied',
  'invalid_scope',
  'invalid_target',
  'unsupported_grant_type',
]);

/**
 * openid-client's failures in the catalog's words: a refused grant is `UNAUTHENTICATED`, anything else (the
 * issuer down, slow or answering nonsense) is `IDENTITY_PROVIDER_UNAVAILABLE`.
 */
export function oauthFailure(
  error: unknown,
  doing: string,
  /** For answers that break the protocol: in a login they mean "start again", not "the issuer is down". */
  protocolViolation: 'UNAUTHENTICATED' | 'IDENTITY_PROVIDER_UNAVAILABLE' = 'IDENTITY_PROVIDER_UNAVAILABLE',
): PeeringError {
  if (error instanceof PeeringError) return error;
  const oauthError = (error as { error?: unknown }).error;
  const description = (error as { error_description?: unknown }).error_description;
  if (typeof oauthError === 'string' && GRANT_ERRORS.has(oauthError)) {
    return new PeeringError(
      'UNAUTHENTICATED',
      `${doing}: the issuer refused it (${oauthError}${typeof description === 'string' ? `: ${description}` : ''})`,
      'authorization',
      { cause: error },
    );
  }
  // fetch rejects with a TypeError when the issuer cannot be reached at all.
  const unreachable = error instanceof TypeError || (error as { name?: string }).name === 'TimeoutError';
  return new PeeringError(
    unreachable ? 'IDENTITY_PROVIDER_UNAVAILABLE' : protocolViolation,
    `${doing}: ${error instanceof Error ? error.message : String(error)}`,
    'authorization',
    { cause: error },
  );
}

/**
 * A bearer token where a DPoP-bound one was asked for would be refused by every DPoP-only server, and is not
 * what the operator configured: say so here rather than at the peer.
 */
export function requireDpopBound(tokenType: string, asked: boolean, issuer: string): void {
  if (asked && tokenType.toLowerCase() !== 'dpop') {
    throw new PeeringError(
      'UNAUTHENTICATED',
      `${issuer} answered a ${tokenType} token, not a DPoP-bound one; does it support DPoP (RFC 9449)?`,
      'dpop',
    );
  }
}
