import type { z } from 'zod';

/**
 * A cross-field rule stated once and evaluated twice: as CEL by the Kubernetes API server (so `kubectl apply`
 * refuses bad YAML before the operator sees it) and as TypeScript by the operator itself (the embedded store
 * has no API server, and a rule the cluster skipped must not reach a router either).
 *
 * @example
 * const notBothMonitoring: CrossFieldRule<{ a?: boolean; b?: boolean }> = {
 *   rule: '!(has(self.a) && self.a && has(self.b) && self.b)',
 *   message: 'a and b cannot both be true',
 *   fieldPath: '.b',
 *   holds: (v) => !(v.a && v.b),
 * };
 */
export interface CrossFieldRule<T> {
  /** CEL over `self` (and `oldSelf` for transition rules). */
  rule: string;
  /** Said by both evaluators, so the error reads the same in `kubectl` and in the operator's status. */
  message: string;
  /** The field to blame, relative to the object the rule sits on (`.peerIp`). */
  fieldPath?: string;
  /** The same rule in TypeScript; for a transition rule, `old` is the previous value. */
  holds: (value: T, old?: T) => boolean;
  /** A transition rule: only checked when an existing object is updated. */
  transition?: boolean;
  /**
   * The CEL sits on this field instead of the object, `self` and `oldSelf` being the field's values. The API
   * server evaluates every rule on every write, status writes included, and each `self.<field>` of an
   * object-level rule costs it a property lookup; a rule on the field itself needs none.
   */
  onField?: string;
}

/** The CRD form of some rules (`x-kubernetes-validations`). */
export function celValidations(rules: readonly CrossFieldRule<never>[]): Record<string, unknown>[] {
  return rules
    .filter((r) => r.onField === undefined)
    .map((r) => ({
      rule: r.rule,
      message: r.message,
      ...(r.fieldPath === undefined ? {} : { fieldPath: r.fieldPath, reason: 'FieldValueInvalid' }),
    }));
}

/** Marks field-level rules on the object's schema; the CRD generator moves them onto their fields. */
export const FIELD_VALIDATIONS = 'x-peering-field-validations';

/** The CRD form of the field-level rules, by field. */
export function fieldCelValidations(
  rules: readonly CrossFieldRule<never>[],
): Record<string, Record<string, unknown>[]> {
  const byField: Record<string, Record<string, unknown>[]> = {};
  for (const r of rules) {
    if (r.onField === undefined) continue;
    (byField[r.onField] ??= []).push({ rule: r.rule, message: r.message });
  }
  return byField;
}

/**
 * Attaches rules to a zod object: checked on parse (non-transition ones) and emitted as CEL into the CRD.
 */
export function withRules<S extends z.ZodType>(schema: S, rules: readonly CrossFieldRule<z.output<S>>[]): S {
  const checked = schema.superRefine((value, ctx) => {
    for (const r of rules) {
      if (r.transition || r.holds(value)) continue;
      ctx.addIssue({
        code: 'custom',
        message: r.message,
        path: r.fieldPath === undefined ? [] : r.fieldPath.replace(/^\./, '').split('.'),
      });
    }
  });
  const all = rules as readonly CrossFieldRule<never>[];
  const onFields = fieldCelValidations(all);
  return checked.meta({
    'x-kubernetes-validations': celValidations(all),
    ...(Object.keys(onFields).length === 0 ? {} : { [FIELD_VALIDATIONS]: onFields }),
  }) as S;
}

/** Transition rules of a list that fail for `old` → `value`, for stores without an API server. */
export function brokenTransitionRules<T>(
  rules: readonly CrossFieldRule<T>[],
  value: T,
  old: T,
): CrossFieldRule<T>[] {
  return rules.filter((r) => r.transition && !r.holds(value, old));
}

/**
 * A field that never changes after creation: the CEL transition rule and its TypeScript twin. A required (or
 * defaulted) field gets the rule on itself, `self == oldSelf`, which the API server evaluates without a lookup;
 * an optional one needs the object-level form, which also forbids removing it once set.
 */
export function immutable<T>(
  field: keyof T & string,
  presence: 'always' | 'optional' = 'always',
): CrossFieldRule<T> {
  const where =
    presence === 'always'
      ? { rule: 'self == oldSelf', onField: field }
      : {
          rule: `!has(oldSelf.${field}) || (has(self.${field}) && self.${field} == oldSelf.${field})`,
          fieldPath: `.${field}`,
        };
  return {
    ...where,
    message: `${field} is immutable`,
    transition: true,
    holds: (value, old) =>
      old === undefined ||
      old === null ||
      old[field] === undefined ||
      JSON.stringify(value[field]) === JSON.stringify(old[field]),
  };
}

/** A resource about one pair of networks names two different ones. */
export const DISTINCT_ASNS: CrossFieldRule<{ localAsn: number; peerAsn: number }> = {
  rule: 'self.localAsn != self.peerAsn',
  message: 'localAsn and peerAsn must differ',
  fieldPath: '.peerAsn',
  holds: (s) => s.localAsn !== s.peerAsn,
};

/** An Outbound request or session says where the peer's API is and how to call it. */
export function outboundNeedsPeerApi(
  what: 'request' | 'session',
): CrossFieldRule<{ direction: string; peerApiUrl?: unknown; credentials?: unknown }> {
  return {
    rule: "self.direction != 'Outbound' || (has(self.peerApiUrl) && has(self.credentials))",
    message: `an Outbound ${what} needs peerApiUrl and credentials`,
    fieldPath: '.peerApiUrl',
    holds: (s) => s.direction !== 'Outbound' || (s.peerApiUrl !== undefined && s.credentials !== undefined),
  };
}
