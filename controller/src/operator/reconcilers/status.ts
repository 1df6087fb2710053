import type { ConditionTransition } from '../resources/conditions.js';
import type { EventRecorder, EventSubject } from '../runtime/events.js';

/** Two statuses compare equal when they hold the same data, whatever the key order: then nothing is written. */
export function sameStatus(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/**
 * Events for condition flips of the given types. A condition's first appearance is no transition: every new
 * object starts somewhere, and 10,000 new sessions must not mean 10,000 Events.
 */
export function recordTransitions(
  events: EventRecorder,
  subject: EventSubject,
  transitions: readonly ConditionTransition[],
  types: readonly string[],
): void {
  for (const t of transitions) {
    if (!types.includes(t.type)) continue;
    if (t.from === undefined) continue;
    events.record(
      subject,
      t.to === 'True' ? 'Normal' : 'Warning',
      t.reason,
      `${t.type} is ${t.to}: ${t.message}`,
    );
  }
}
