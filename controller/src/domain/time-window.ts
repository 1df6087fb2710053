import type { SessionStatus } from './session.js';

/** Statuses of an accepted session: the time window counts from its first entry into one of them. */
export const ACCEPTED_STATES: ReadonlySet<SessionStatus> = new Set([
  'approved',
  'configured',
  'established',
  'down',
]);

/** Statuses in which the time window runs: agreed, but BGP never came up. */
export const WAITING_STATES: ReadonlySet<SessionStatus> = new Set(['approved', 'configured']);

/**
 * When the time window of a session ends (docs/api.md §13), in epoch milliseconds: one window after the session
 * was accepted (approved, automatically or by a person), while it waits for BGP. Undefined when the window does
 * not run: the session is not waiting, or not accepted yet. The request's arrival does not count: a session
 * approved by hand six days after it was asked for still gets a whole window.
 *
 * @example
 * windowEnds('approved', '2026-06-01T00:00:00Z', 7 * 86_400_000); // Date.parse('2026-06-08T00:00:00Z')
 */
export function windowEnds(
  state: SessionStatus | undefined,
  acceptedAt: string | undefined,
  windowMs: number,
): number | undefined {
  if (state === undefined || !WAITING_STATES.has(state) || acceptedAt === undefined) return undefined;
  return Date.parse(acceptedAt) + windowMs;
}

/**
 * True when an agreed session has waited longer than the time window for BGP: then it becomes `unestablished`
 * and leaves the router. The one rule for the operator's session reconciler and the API server's sweep of
 * `peering-operator serve`.
 *
 * @example
 * windowExpired('configured', session.acceptedAt, Date.now(), config.policy.timeWindow);
 */
export function windowExpired(
  state: SessionStatus | undefined,
  acceptedAt: string | undefined,
  now: number,
  windowMs: number,
): boolean {
  const ends = windowEnds(state, acceptedAt, windowMs);
  return ends !== undefined && now > ends;
}
