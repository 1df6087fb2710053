import { z } from 'zod';
import type { Identity } from './identity.js';

/**
 * How a caller must present its access token. `bearer`: as today, any valid token (RFC 6750), except that a
 * DPoP-bound token is always held to its proof. `dpop`: a DPoP-bound token with a fresh proof on every request
 * (RFC 9449). `dpop+signature`: DPoP and, signed with the same key, HTTP Message Signatures (RFC 9421) over the
 * request and its Content-Digest (RFC 9530): the draft's M3 in full.
 */
export const AuthPolicySchema = z.enum(['bearer', 'dpop', 'dpop+signature']);
export type AuthPolicy = z.output<typeof AuthPolicySchema>;

const STRICTNESS: Record<AuthPolicy, number> = { bearer: 0, dpop: 1, 'dpop+signature': 2 };

/** The global policy and the exceptions per caller ASN, as `auth.policy` and `auth.callers` configure them. */
export interface AuthPolicies {
  policy: AuthPolicy;
  byAsn: ReadonlyMap<number, AuthPolicy>;
}

/**
 * The policy a caller is held to: the strictest of the policies of the ASNs its identity holds (an ASN without
 * an entry of its own takes the global one), or the global policy for an identity holding none. Strictest,
 * because one token acts for every network it holds: a peer allowed plain bearer tokens must not lend that
 * allowance to another network held by the same token.
 *
 * @example
 * authPolicyFor(identity, { policy: 'dpop', byAsn: new Map([[64501, 'bearer']]) }); // 'bearer' for AS64501 only
 */
export function authPolicyFor(identity: Identity, policies: AuthPolicies): AuthPolicy {
  let strictest: AuthPolicy | undefined;
  for (const asn of identity.networks.keys()) {
    const policy = policies.byAsn.get(asn) ?? policies.policy;
    if (strictest === undefined || STRICTNESS[policy] > STRICTNESS[strictest]) strictest = policy;
  }
  return strictest ?? policies.policy;
}
