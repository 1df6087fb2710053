import { isIP } from 'node:net';
import { z } from 'zod';
import { BgpRoleSchema, SESSION_DEFAULTS, type DefaultedOption } from '../../domain/session.js';
import {
  SESSION_RULES as DOMAIN_SESSION_RULES,
  type RuleSubject,
  type SessionRuleId,
} from '../../domain/session-rules.js';
import type { CrossFieldRule } from './rules.js';

/** One IPv4 or IPv6 address (no prefix length: a resource names an address, not a network). */
export const IpAddressSchema = z
  .string()
  .min(2)
  .max(45)
  .refine((value) => isIP(value) !== 0, { message: 'must be an IPv4 or IPv6 address' })
  .meta({
    description: 'An IPv4 or IPv6 address, e.g. 192.0.2.1 or 2001:db8::1',
    'x-kubernetes-validations': [{ rule: 'isIP(self)', message: 'must be an IPv4 or IPv6 address' }],
  });

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A key of a Secret in the object's own namespace. Secrets are only ever referenced: no resource of ours holds a
 * password or a token inline.
 */
export const SecretKeyReferenceSchema = z
  .object({
    name: z.string().min(1).max(253).regex(DNS_SUBDOMAIN, 'must be a Secret name (DNS subdomain)'),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret data key'),
  })
  .strict()
  .meta({ description: 'A key of a Secret in the same namespace' });
export type SecretKeyReference = z.infer<typeof SecretKeyReferenceSchema>;

/** RFC 9234 role as an integer, the draft's encoding. */
export const RoleFieldSchema = BgpRoleSchema;

/** A boolean option whose default is the domain's (`SESSION_DEFAULTS`), so the CRD states the same default. */
function defaulted(option: DefaultedOption, description: string) {
  return z.boolean().default(SESSION_DEFAULTS[option]).meta({ description });
}

/** The draft's optional per-session options, in our reading (`local` = this network). */
export const sessionOptionFields = {
  localBgpRole: RoleFieldSchema.optional().meta({
    description: 'Our RFC 9234 role: 0 Provider, 1 Route Server, 2 RS Client, 3 Customer, 4 Peer',
  }),
  peerBgpRole: RoleFieldSchema.optional().meta({
    description: "The peer's RFC 9234 role; with localBgpRole it must be role-correct",
  }),
  localInsertAsn: defaulted('localInsertAsn', 'We insert our ASN into the AS path'),
  peerInsertAsn: defaulted('peerInsertAsn', 'The peer inserts its ASN into the AS path'),
  localMonitoringSession: defaulted('localMonitoringSession', 'Our side only monitors (forwards no routes)'),
  peerMonitoringSession: defaulted(
    'peerMonitoringSession',
    "The peer's side only monitors (forwards no routes)",
  ),
  sessionSecretRef: SecretKeyReferenceSchema.optional().meta({
    description: 'MD5/TCP-AO secret of the session, by Secret reference (never inline)',
  }),
};

/**
 * The CEL form of each of the domain's session rules (`domain/session-rules.ts`); the operator's own check is
 * the domain's predicate, so the two evaluators cannot drift apart in meaning, only in spelling.
 */
const CEL: Record<SessionRuleId, string> = {
  sameFamily:
    '!isIP(self.localIp) || !isIP(self.peerIp) || ip(self.localIp).family() == ip(self.peerIp).family()',
  rolesPaired: 'has(self.localBgpRole) == has(self.peerBgpRole)',
  // Integer comparisons: string building would make the API server's cost estimate explode.
  rolesCorrect:
    '!has(self.localBgpRole) || !has(self.peerBgpRole) || ' +
    [
      [0, 3],
      [3, 0],
      [1, 2],
      [2, 1],
      [4, 4],
    ]
      .map(([l, p]) => `(self.localBgpRole == ${l} && self.peerBgpRole == ${p})`)
      .join(' || '),
  oneMonitoringSide:
    '!(has(self.localMonitoringSession) && self.localMonitoringSession && ' +
    'has(self.peerMonitoringSession) && self.peerMonitoringSession)',
};

/** Rules every session description obeys, whichever resource it sits in: the domain's, as CEL and predicate. */
export const SESSION_RULES: CrossFieldRule<RuleSubject>[] = DOMAIN_SESSION_RULES.map((r) => ({
  rule: CEL[r.id],
  message: r.message,
  fieldPath: `.${r.field}`,
  holds: (s) => r.holds(s),
}));

/** `public` for `pdb:ix:*`, `private` for `pdb:fac:*`, in CEL. */
export function celLocationKind(idExpression: string): string {
  return `(${idExpression}.startsWith('pdb:fac:') ? 'private' : 'public')`;
}
