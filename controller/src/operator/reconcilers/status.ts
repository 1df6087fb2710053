import { ERROR_CATALOG, PeeringError } from '../../domain/errors.js';
import { SecretMissingError } from '../backing/errors.js';
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

/** Reasons a resource reaches on purpose, not through a failure: said as Normal events even when not True. */
const EXPECTED_REASONS: ReadonlySet<string> = new Set(['Deleting', 'DePeered', 'Suspended']);

/** Every failure reason: the error catalog's, the peer's codes in our reading, and a session refused by policy. */
const FAILURE_REASONS: ReadonlySet<string> = new Set([
  ...Object.values(ERROR_CATALOG).flatMap((e) => [
    e.reason,
    ...('initiatorReason' in e ? [e.initiatorReason] : []),
  ]),
  'Rejected',
  'Unestablished',
  'InvalidSpec',
  'AgentLost',
  'RouterConflict',
]);

/** Whether a condition reason names a failure (a Warning when it appears), rather than progress. */
export function isFailureReason(reason: string): boolean {
  return FAILURE_REASONS.has(reason);
}

/**
 * Events for condition changes of the given types: a status flip (Normal to True, Warning otherwise, Normal for
 * an expected end such as `Deleting`), and a failure that appears or changes its reason (Warning), so the first
 * failure of a new object says so. A new object's first progress (`NotConfigured`, `PendingApproval`) is no
 * Event: 10,000 new sessions must not mean 10,000 Events. A failure that repeats with the same reason records
 * nothing more.
 */
export function recordTransitions(
  events: EventRecorder,
  subject: EventSubject,
  transitions: readonly ConditionTransition[],
  types: readonly string[],
): void {
  // One event per reason and write: Ready and Synced failing for the same cause say it once.
  const said = new Set<string>();
  for (const t of transitions) {
    if (!types.includes(t.type)) continue;
    const flipped = t.from !== undefined && t.from !== t.to;
    const failing = t.to !== 'True' && isFailureReason(t.reason) && t.reason !== t.fromReason;
    if (!flipped && !failing) continue;
    if (said.has(`${t.to}/${t.reason}`)) continue;
    said.add(`${t.to}/${t.reason}`);
    const normal = t.to === 'True' || (EXPECTED_REASONS.has(t.reason) && !failing);
    events.record(subject, normal ? 'Normal' : 'Warning', t.reason, `${t.type} is ${t.to}: ${t.message}`);
  }
}

/** A failure as a condition's reason (from the error catalog where it has a code) and message. */
export function asFailure(error: unknown): { reason: string; message: string } {
  if (error instanceof PeeringError) return { reason: error.reason, message: error.message };
  if (error instanceof SecretMissingError)
    return { reason: ERROR_CATALOG.SECRET_NOT_FOUND.reason, message: error.message };
  if (error instanceof Error) {
    const name = error.name.replace(/[^A-Za-z0-9]/g, '');
    return { reason: /^[A-Za-z]/.test(name) ? name : 'Error', message: error.message };
  }
  return { reason: 'Error', message: String(error) };
}
