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
}

/** The CRD form of some rules (`x-kubernetes-validations`). */
export function celValidations(rules: readonly CrossFieldRule<never>[]): Record<string, unknown>[] {
  return rules.map((r) => ({
    rule: r.rule,
    message: r.message,
    ...(r.fieldPath === undefined ? {} : { fieldPath: r.fieldPath, reason: 'FieldValueInvalid' }),
  }));
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
  return checked.meta({
    'x-kubernetes-validations': celValidations(rules as readonly CrossFieldRule<never>[]),
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

/** A field that never changes after creation: the CEL transition rule and its TypeScript twin. */
export function immutable<T>(field: keyof T & string): CrossFieldRule<T> {
  return {
    rule: `!has(oldSelf.${field}) || (has(self.${field}) && self.${field} == oldSelf.${field})`,
    message: `${field} is immutable`,
    fieldPath: `.${field}`,
    transition: true,
    holds: (value, old) =>
      old === undefined ||
      old === null ||
      old[field] === undefined ||
      JSON.stringify(value[field]) === JSON.stringify(old[field]),
  };
}
