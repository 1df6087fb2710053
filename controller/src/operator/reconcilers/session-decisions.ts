import type { SessionStatus } from '../../domain/session.js';
import { ACCEPTED_STATES, windowExpired } from '../../domain/time-window.js';
import { backoffDelay } from '../../time/backoff.js';
import type { ObservedSession } from '../../router/driver.js';
import { ERROR_CATALOG } from '../../domain/errors.js';
import type { Condition, DesiredCondition } from '../resources/conditions.js';
import type { BgpObservation, Direction, PeeringSessionStatus } from '../resources/peering-session.js';

const BGP_DOWN = ERROR_CATALOG.BGP_DOWN.reason;

/** Statuses in which the session is agreed and belongs on the router: the accepted ones. */
export const ROUTED_STATES: ReadonlySet<SessionStatus> = ACCEPTED_STATES;

/** Statuses that end a session's life: nothing will happen without a new request. */
export const FINAL_STATES: ReadonlySet<SessionStatus> = new Set(['rejected', 'unestablished']);

export interface PollSchedule {
  /** First polls of an agreed session; grows with its age (a tenth of it). Default 10 s. */
  minMs: number;
  /** Ceiling of the polling interval and of the failure backoff. Default 5 min. */
  maxMs: number;
  /** First wait after a failed poll; doubles per failure. Default 5 s. */
  failureBaseMs: number;
  /** Once established, how often to look (for `down` and removal by the peer). Default 5 min. */
  establishedMs: number;
}

export const DEFAULT_POLL_SCHEDULE: PollSchedule = {
  minMs: 10_000,
  maxMs: 300_000,
  failureBaseMs: 5_000,
  establishedMs: 300_000,
};

/**
 * When to ask the peer again about an outbound session: with exponential backoff after failures, often while it
 * is young, rarely once established, never once final.
 *
 * @example
 * nextPollMs('approved', acceptedAt, 0, now); // 10 s for a fresh session, up to 5 min for an old one
 */
export function nextPollMs(
  state: SessionStatus | undefined,
  acceptedAt: string | undefined,
  failures: number,
  now: number,
  schedule: PollSchedule = DEFAULT_POLL_SCHEDULE,
): number | undefined {
  if (failures > 0) return backoffDelay(failures, { baseMs: schedule.failureBaseMs, maxMs: schedule.maxMs });
  if (state !== undefined && FINAL_STATES.has(state)) return undefined;
  if (state === 'established') return schedule.establishedMs;
  const age = acceptedAt === undefined ? 0 : Math.max(0, now - Date.parse(acceptedAt));
  return Math.min(schedule.maxMs, Math.max(schedule.minMs, Math.floor(age / 10)));
}

/**
 * When a process that has not polled an outbound session yet (after a restart, on a new leader) first asks the
 * peer about a session whose status it already has: at a point spread over the session's poll interval, so that
 * thousands of sessions do not all ask their peers at once, and no later than they would have without the
 * restart. Undefined for a final session (never asked again).
 *
 * @example
 * firstPollDue('established', undefined, 1_000_000, 0.5); // 1_000_000 + 150_000 with the default schedule
 */
export function firstPollDue(
  state: SessionStatus | undefined,
  acceptedAt: string | undefined,
  now: number,
  random: number,
  schedule: PollSchedule = DEFAULT_POLL_SCHEDULE,
): number | undefined {
  const wait = nextPollMs(state, acceptedAt, 0, now, schedule);
  return wait === undefined ? undefined : now + Math.floor(random * wait);
}

/** The router's report in the resource's words. */
export function bgpStatus(observed: ObservedSession): BgpObservation {
  return {
    state: observed.state,
    ...(observed.since ? { since: observed.since.toISOString() } : {}),
    prefixesReceived: observed.routes.imported,
    prefixesSent: observed.routes.exported,
    ...(observed.lastError ? { lastError: observed.lastError.slice(0, 1024) } : {}),
  };
}

/** What happened to the session on the router in this reconcile. */
export type RouterView =
  | { kind: 'configured'; bgp: BgpObservation | undefined; observed: ObservedSession | undefined }
  | { kind: 'refused'; reason: string; message: string }
  /** Assigned to a router whose agent has not (yet, or any more) answered: nothing is known of BGP. */
  | { kind: 'waiting'; reason: string; message: string; bgp: BgpObservation | undefined }
  | { kind: 'removed' };

/** How the last exchange with the outside (peer API, router, Secrets) went. */
export type SyncView = { ok: true } | { ok: false; reason: string; message: string };

/**
 * The five conditions of a PeeringSession from what the reconcile found. Pure, so every combination is tested
 * without a cluster, a peer or a router. `previous` (the conditions before) tells a session that lost BGP
 * (`BgpDown`, Degraded in Argo CD) from one whose BGP has not come up yet (`BgpActive`, … : Progressing).
 */
export function sessionConditions(
  direction: Direction,
  status: Pick<PeeringSessionStatus, 'state' | 'stateReason'>,
  router: RouterView,
  sync: SyncView,
  previous: readonly Pick<Condition, 'type' | 'status' | 'reason'>[] = [],
): DesiredCondition[] {
  const state = status.state;
  const why = status.stateReason ? `: ${status.stateReason}` : '';
  const accepted: DesiredCondition =
    state === undefined
      ? {
          type: 'Accepted',
          status: 'Unknown',
          reason: 'Unknown',
          message: 'the session status is not known yet',
        }
      : state === 'pending'
        ? {
            type: 'Accepted',
            status: 'Unknown',
            reason: 'PendingApproval',
            message:
              direction === 'Outbound'
                ? 'the peer has not approved the session yet'
                : 'waiting for approval (a PeeringApproval, or spec.approved: true on the PeeringRequest)',
          }
        : ROUTED_STATES.has(state)
          ? { type: 'Accepted', status: 'True', reason: 'Approved', message: `the session is ${state}` }
          : {
              type: 'Accepted',
              status: 'False',
              reason: state === 'rejected' ? 'Rejected' : 'Unestablished',
              message: `the session is ${state}${why}`,
            };
  const configured: DesiredCondition =
    router.kind === 'configured'
      ? { type: 'Configured', status: 'True', reason: 'Configured', message: 'configured on our router' }
      : router.kind === 'refused'
        ? { type: 'Configured', status: 'False', reason: router.reason, message: router.message }
        : router.kind === 'waiting'
          ? { type: 'Configured', status: 'Unknown', reason: router.reason, message: router.message }
          : { type: 'Configured', status: 'False', reason: 'NotConfigured', message: 'not on our router' };
  const bgp = router.kind === 'configured' ? router.bgp : undefined;
  const before = previous.find((c) => c.type === 'Established');
  // Down: our router saw it established and no longer does (sticky until it is up again), or the session's
  // status says so.
  const wentDown =
    bgp !== undefined &&
    bgp.state !== 'established' &&
    (before?.status === 'True' || before?.reason === BGP_DOWN || state === 'down');
  const established: DesiredCondition =
    router.kind === 'waiting'
      ? { type: 'Established', status: 'Unknown', reason: router.reason, message: router.message }
      : bgp?.state === 'established'
        ? { type: 'Established', status: 'True', reason: 'Established', message: 'BGP is established' }
        : {
            type: 'Established',
            status: 'False',
            reason: wentDown
              ? BGP_DOWN
              : bgp
                ? `Bgp${bgp.state.charAt(0).toUpperCase()}${bgp.state.slice(1)}`
                : 'NotConfigured',
            message: bgp
              ? `BGP is ${wentDown ? `down (${bgp.state})` : bgp.state}${bgp.since && wentDown ? ` since ${bgp.since}` : ''}${bgp.lastError ? `: ${bgp.lastError}` : ''}`
              : 'not on our router',
          };
  const ready: DesiredCondition =
    configured.status === 'True' && established.status === 'True'
      ? { type: 'Ready', status: 'True', reason: 'Established', message: 'BGP is established' }
      : accepted.status !== 'True'
        ? { type: 'Ready', status: 'False', reason: accepted.reason, message: accepted.message }
        : configured.status !== 'True'
          ? { type: 'Ready', status: 'False', reason: configured.reason, message: configured.message }
          : { type: 'Ready', status: 'False', reason: established.reason, message: established.message };
  const synced: DesiredCondition = sync.ok
    ? { type: 'Synced', status: 'True', reason: 'Synced', message: 'the last exchange succeeded' }
    : { type: 'Synced', status: 'False', reason: sync.reason, message: sync.message };
  return [accepted, configured, established, ready, synced];
}

/** The part of a session's status that its own life decides, before the router is looked at. */
export type StateStep = Pick<PeeringSessionStatus, 'state' | 'stateReason' | 'acceptedAt'>;

/**
 * The session's next status from the last one: an inbound session starts as our policy left it (the API
 * server's `initial-state` annotation), an accepted one records when (the time window counts from there), and
 * one that waited longer than the window for BGP becomes `unestablished` (`expired`: say so, take it off the
 * router).
 *
 * @example
 * nextSessionState({}, 'Inbound', 'approved', now, week); // { status: { state: 'approved', acceptedAt: now }, expired: false }
 */
export function nextSessionState(
  status: StateStep,
  direction: Direction,
  initialState: string | undefined,
  now: number,
  timeWindowMs: number,
): { status: StateStep; expired: boolean } {
  const next: StateStep = {};
  let state = status.state;
  if (direction === 'Inbound' && state === undefined)
    state = initialState === 'approved' ? 'approved' : 'pending';
  if (state !== undefined) next.state = state;
  const acceptedAt =
    status.acceptedAt ??
    (state !== undefined && ROUTED_STATES.has(state) ? new Date(now).toISOString() : undefined);
  if (acceptedAt !== undefined) next.acceptedAt = acceptedAt;
  if (!windowExpired(state, acceptedAt, now, timeWindowMs)) return { status: next, expired: false };
  return {
    status: { ...next, state: 'unestablished', stateReason: 'not established within the time window' },
    expired: true,
  };
}

/** How often to look at the router while BGP is not established, and once it is. */
export const DEFAULT_OBSERVE_MS = { waiting: 15_000, established: 60_000 };

/**
 * When to reconcile a session again: the earliest of its next poll of the peer, its next look at the router and
 * the end of its time window. Undefined when nothing is due (a change will bring it back).
 *
 * @example
 * requeueAfterMs({ now, pollDue: now + 10_000, router: { kind: 'removed' } }); // 10_000
 */
export function requeueAfterMs(due: {
  now: number;
  pollDue?: number | undefined;
  router: RouterView;
  observeMs?: { waiting: number; established: number } | undefined;
  windowEnd?: number | undefined;
}): number | undefined {
  const waits: number[] = [];
  if (due.pollDue !== undefined) waits.push(due.pollDue - due.now);
  if (due.router.kind === 'configured' || due.router.kind === 'waiting') {
    const observe = due.observeMs ?? DEFAULT_OBSERVE_MS;
    waits.push(due.router.bgp?.state === 'established' ? observe.established : observe.waiting);
  }
  if (due.windowEnd !== undefined) waits.push(due.windowEnd - due.now + 1);
  return waits.length === 0 ? undefined : Math.max(0, Math.min(...waits));
}
