import type { Config } from '../config/config.js';
import type { Authenticator } from './identity.js';
import { JwtAccessTokenVerifier } from './jwt-verifier.js';
import { PeeringDbProfileVerifier } from './peeringdb-verifier.js';

/** What tests and benchmarks may put in place of the real network and clock. */
export interface IssuerAuthenticatorOptions {
  fetch?: typeof fetch;
  now?: () => number;
}

/**
 * One verifier per trusted issuer of `config.auth.issuers`, in the configured order: a JWT verifier whose
 * audience is `apiUrl` (unless the issuer names another), or a PeeringDB profile verifier. Nothing is fetched
 * until the first token arrives.
 *
 * @example
 * const authenticator = new ChainAuthenticator([staticAuthenticator(config), ...issuerAuthenticators(config)]);
 */
export function issuerAuthenticators(
  config: Config,
  options: IssuerAuthenticatorOptions = {},
): Authenticator[] {
  return config.auth.issuers.map((issuer) =>
    issuer.kind === 'jwt'
      ? new JwtAccessTokenVerifier({
          issuer: issuer.issuer,
          audience: issuer.audience ?? config.apiUrl,
          algorithms: issuer.algorithms,
          clockToleranceSeconds: issuer.clockToleranceSeconds,
          networksClaim: issuer.networksClaim,
          jwksMaxAgeMs: issuer.jwksMaxAge,
          jwksCooldownMs: issuer.jwksRefreshCooldown,
          timeoutMs: issuer.timeout,
          ...options,
        })
      : new PeeringDbProfileVerifier({
          url: issuer.url,
          cacheTtlMs: issuer.cacheTtl,
          tokenLifetimeMs: issuer.tokenLifetime,
          timeoutMs: issuer.timeout,
          ...options,
        }),
  );
}
