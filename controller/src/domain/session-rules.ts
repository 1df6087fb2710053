import { isIP } from 'node:net';
import type { ErrorCode } from './errors.js';
import {
  BGP_ROLE_NAMES,
  addressFamily,
  rolesAreCorrect,
  type BgpRole,
  type SessionTerms,
} from './session.js';

/**
 * The cross-field rules of a session's terms, stated once. The receiver's policy answers them with their codes
 * (`judgeSession`), the CRDs carry them as CEL with these predicates as the operator's own check
 * (`operator/resources/session-fields.ts`), and the router driver applies the ones that concern a router
 * (`router/driver.ts`). The renderers' injection checks are separate on purpose (ADR 0004).
 */

/** The fields the rules read; every description of a session has them (a resource spec, terms, …). */
export interface RuleSubject {
  localIp: string;
  peerIp: string;
  localBgpRole?: BgpRole | undefined;
  peerBgpRole?: BgpRole | undefined;
  localMonitoringSession?: boolean | undefined;
  peerMonitoringSession?: boolean | undefined;
}

export type SessionRuleId = 'sameFamily' | 'rolesPaired' | 'rolesCorrect' | 'oneMonitoringSide';

export interface SessionRule {
  id: SessionRuleId;
  /** The field it names when broken, in our reading, camelCase (`peerIp`). */
  field: keyof RuleSubject;
  /** The field to name for this subject, when it depends on which side is missing. */
  fieldFor?(subject: RuleSubject): keyof RuleSubject;
  code: ErrorCode;
  /** What the rule says, the same for every subject (a CRD's CEL message). */
  message: string;
  holds(subject: RuleSubject): boolean;
  /** Why this subject breaks it, in a peering coordinator's words. */
  explain(subject: RuleSubject): string;
}

function isAddress(text: string): boolean {
  return isIP(text) !== 0;
}

export const SESSION_RULES: readonly SessionRule[] = [
  {
    id: 'sameFamily',
    field: 'peerIp',
    code: 'ADDRESS_FAMILY_MISMATCH',
    message: 'localIp and peerIp must be of the same address family',
    // Only addresses are compared; a malformed one is its own field's error.
    holds: (s) =>
      !isAddress(s.localIp) || !isAddress(s.peerIp) || addressFamily(s.localIp) === addressFamily(s.peerIp),
    explain: (s) =>
      `${s.localIp} and ${s.peerIp} are of different address families; request one session per family`,
  },
  {
    id: 'rolesPaired',
    field: 'peerBgpRole',
    code: 'ROLE_MISMATCH',
    message: 'give both localBgpRole and peerBgpRole, or neither',
    fieldFor: (s) => (s.localBgpRole === undefined ? 'localBgpRole' : 'peerBgpRole'),
    holds: (s) => (s.localBgpRole === undefined) === (s.peerBgpRole === undefined),
    explain: () => 'give both BGP roles or neither',
  },
  {
    id: 'rolesCorrect',
    field: 'peerBgpRole',
    code: 'ROLE_MISMATCH',
    message:
      'localBgpRole and peerBgpRole must be RFC 9234 role-correct: provider/customer (0/3, 3/0), ' +
      'route server/client (1/2, 2/1) or peer/peer (4/4)',
    holds: (s) =>
      s.localBgpRole === undefined ||
      s.peerBgpRole === undefined ||
      rolesAreCorrect(s.localBgpRole, s.peerBgpRole),
    explain: (s) =>
      `roles ${BGP_ROLE_NAMES[s.localBgpRole ?? 4]} and ${BGP_ROLE_NAMES[s.peerBgpRole ?? 4]} are not RFC 9234 ` +
      'role-correct (pairs are provider/customer, rs_server/rs_client, peer/peer)',
  },
  {
    id: 'oneMonitoringSide',
    field: 'peerMonitoringSession',
    code: 'MONITORING_CONFLICT',
    message: 'localMonitoringSession and peerMonitoringSession cannot both be true',
    holds: (s) => !(s.localMonitoringSession === true && s.peerMonitoringSession === true),
    explain: () => 'both sides cannot be monitoring sessions',
  },
];

export function sessionRule(id: SessionRuleId): SessionRule {
  const rule = SESSION_RULES.find((r) => r.id === id);
  if (!rule) throw new RangeError(`no session rule ${id}`);
  return rule;
}

/** One broken rule, for a subject. */
export interface RuleBreach {
  rule: SessionRule;
  field: keyof RuleSubject;
  code: ErrorCode;
  message: string;
}

/**
 * The rules a subject breaks (all of them, or the ones named), each with its explanation.
 *
 * @example
 * ruleBreaches(terms).map((b) => `${b.field}: ${b.message}`);
 */
export function ruleBreaches(subject: RuleSubject, only?: readonly SessionRuleId[]): RuleBreach[] {
  const out: RuleBreach[] = [];
  for (const rule of SESSION_RULES) {
    if (only && !only.includes(rule.id)) continue;
    if (!rule.holds(subject)) {
      const field = rule.fieldFor?.(subject) ?? rule.field;
      out.push({ rule, field, code: rule.code, message: rule.explain(subject) });
    }
  }
  return out;
}

/** A terms field in the wire's spelling: `peerBgpRole` → `peer_bgp_role`. */
export function wireFieldName(field: keyof SessionTerms | keyof RuleSubject): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
