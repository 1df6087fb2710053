import { z } from 'zod';

/** `metav1.Condition`: the one shape every condition of ours has. */
export const ConditionSchema = z
  .object({
    type: z
      .string()
      .max(316)
      .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
      ),
    status: z.enum(['True', 'False', 'Unknown']),
    observedGeneration: z.number().int().min(0).optional(),
    lastTransitionTime: z.string().meta({ format: 'date-time' }),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
    message: z.string().max(32768),
  })
  .meta({ description: 'metav1.Condition' });
export type Condition = z.infer<typeof ConditionSchema>;

/** `status.conditions`: one entry per type (a list-map, so server-side apply merges by type). */
export const ConditionListSchema = z
  .array(ConditionSchema)
  .max(16)
  .optional()
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });

export type ConditionStatus = Condition['status'];

/** What a reconciler wants a condition to say; the time and generation are filled in by {@link setCondition}. */
export interface DesiredCondition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** A condition whose status or reason changed (or that appeared), for an Event. */
export interface ConditionTransition {
  type: string;
  from: ConditionStatus | undefined;
  /** The reason before; undefined when the condition is new. */
  fromReason: string | undefined;
  to: ConditionStatus;
  reason: string;
  message: string;
}

export interface ConditionUpdate {
  conditions: Condition[];
  /** Anything differs (reason, message, generation or status): the status needs writing. */
  changed: boolean;
  /** Status flips and reason changes, and new conditions: which of these deserve an Event is the caller's call. */
  transitions: ConditionTransition[];
}

/**
 * Applies desired conditions to a list, the way `meta.SetStatusCondition` does: one entry per type,
 * `lastTransitionTime` moves only when `status` flips, and an unchanged condition leaves the list identical so
 * the caller can skip the write.
 *
 * @example
 * const { conditions, changed, transitions } = setConditions(status.conditions, [
 *   { type: 'Ready', status: 'True', reason: 'Established', message: 'BGP is up' },
 * ], object.metadata.generation, new Date());
 * if (changed) await store.updateStatus({ ...object, status: { ...status, conditions } });
 */
export function setConditions(
  current: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  generation: number | undefined,
  now: Date,
): ConditionUpdate {
  const conditions = [...(current ?? [])];
  const transitions: ConditionTransition[] = [];
  let changed = false;
  for (const want of desired) {
    const index = conditions.findIndex((c) => c.type === want.type);
    const existing = index === -1 ? undefined : conditions[index];
    const flipped = existing?.status !== want.status;
    const next: Condition = {
      type: want.type,
      status: want.status,
      reason: want.reason,
      message: truncate(want.message),
      lastTransitionTime: flipped || !existing ? now.toISOString() : existing.lastTransitionTime,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    };
    if (existing && sameCondition(existing, next)) continue;
    changed = true;
    if (flipped || existing?.reason !== want.reason) {
      transitions.push({
        type: want.type,
        from: existing?.status,
        fromReason: existing?.reason,
        to: want.status,
        reason: want.reason,
        message: next.message,
      });
    }
    if (index === -1) conditions.push(next);
    else conditions[index] = next;
  }
  return { conditions, changed, transitions };
}

/** The condition of a type, if present. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when the condition of `type` has status `True`. */
export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

function sameCondition(a: Condition, b: Condition): boolean {
  return (
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.observedGeneration === b.observedGeneration &&
    a.lastTransitionTime === b.lastTransitionTime
  );
}

/** metav1.Condition caps messages; a remote error body must never make the status write fail. */
function truncate(message: string): string {
  return message.length > 32768 ? `${message.slice(0, 32760)}…` : message;
}
