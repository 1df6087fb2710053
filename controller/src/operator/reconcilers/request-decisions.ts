import type { RemoteFieldError } from '../../client/errors.js';
import { ERROR_CATALOG } from '../../domain/errors.js';
import { naturalKey, type SessionStatus, type SessionTerms } from '../../domain/session.js';
import type { DesiredCondition } from '../resources/conditions.js';
import { recordKey } from './request-terms.js';
import { isFailureReason } from './status.js';
import type {
  AcceptedSession,
  PeeringRequestStatus,
  SessionKeyRecord,
  SessionRejection,
} from '../resources/peering-request.js';

/** Sessions wanted but neither accepted nor refused for this generation: the next POST's content. */
export function sessionsToRequest(
  wanted: readonly SessionTerms[],
  status: PeeringRequestStatus,
  generation: number,
  peerAsn: number,
): SessionTerms[] {
  const known = new Set([
    ...(status.accepted ?? []).map((a) => recordKey(peerAsn, a)),
    ...(status.rejected ?? [])
      .filter((r) => (r.generation ?? 0) >= generation)
      .map((r) => recordKey(peerAsn, r)),
  ]);
  return wanted.filter((w) => !known.has(naturalKey(w)));
}

/** Accepted sessions no longer wanted (the spec dropped them): to de-peer. */
export function sessionsToRemove(
  wanted: readonly SessionTerms[],
  status: PeeringRequestStatus,
  peerAsn: number,
): AcceptedSession[] {
  const keep = new Set(wanted.map(naturalKey));
  return (status.accepted ?? []).filter((a) => !keep.has(recordKey(peerAsn, a)));
}

/**
 * The peer's per-session errors (`sessions[2].peer_ip`, docs/api.md §6) → one rejection per session of the
 * batch, in our reading: the peer speaks with `local` = itself, so its `LOCAL_IP_NOT_OURS` is our
 * `PeerIpNotTheirs` (the client has already turned its `local_ip` into our `peer_ip`). The code stays the peer's,
 * as given. Errors not tied to an index concern every session.
 */
export function rejectionsOf(
  batch: readonly SessionKeyRecord[],
  errors: readonly RemoteFieldError[],
  generation: number,
): SessionRejection[] {
  const byIndex = new Map<number, RemoteFieldError[]>();
  for (const error of errors) {
    const match = /^sessions\[(\d+)\]/.exec(error.name);
    const indexes = match ? [Number(match[1])] : batch.map((_, i) => i);
    for (const index of indexes) byIndex.set(index, [...(byIndex.get(index) ?? []), error]);
  }
  const out: SessionRejection[] = [];
  for (const [index, list] of [...byIndex].sort((a, b) => a[0] - b[0])) {
    const key = batch[index];
    if (!key) continue;
    const first = list[0] as RemoteFieldError;
    const code = (first.code ?? 'INVALID_FIELD').slice(0, 64);
    out.push({
      ...key,
      // The client has put the peer's field in our reading already (its `local_ip` is our `peer_ip`).
      field: specField(first.field).slice(0, 256),
      code,
      reason: reasonOf(code, 'initiator'),
      message: list
        .flatMap((e) => e.errors)
        .join('; ')
        .slice(0, 2048),
      generation,
    });
  }
  return out;
}

/**
 * A catalog code's condition reason, in the reading of the side that shows it (`initiator`: the peer's code
 * about our request); the peer's unknown codes become a CamelCase reason of their own.
 */
export function reasonOf(code: string, reading: 'receiver' | 'initiator' = 'receiver'): string {
  const known = (ERROR_CATALOG as Record<string, { reason: string; initiatorReason?: string } | undefined>)[
    code.toUpperCase()
  ];
  if (known) return (reading === 'initiator' ? known.initiatorReason : undefined) ?? known.reason;
  const camel = code
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
  return /^[A-Za-z]/.test(camel) ? camel.slice(0, 64) : 'Rejected';
}

/** A field path in our reading, as the wire spells it (`sessions[0].local_ip`), in the spec's words (`localIp`). */
export function specField(field: string): string {
  return field.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** A rejected session in one line: its key where it has one, else the field the rejection names. */
export function describeRejection(r: SessionRejection): string {
  const key =
    r.location !== undefined
      ? `${r.location} ${r.localIp ?? '?'}-${r.peerIp ?? '?'}`
      : (r.field ?? 'the request');
  return `${key}: ${r.message}`;
}

export type RequestPhase = NonNullable<PeeringRequestStatus['phase']>;

/** The request's phase from its sessions' states. */
export function requestPhase(
  status: PeeringRequestStatus,
  states: readonly (SessionStatus | undefined)[],
  inbound: boolean,
): RequestPhase {
  if (status.intent) return 'Requesting';
  const accepted = status.accepted?.length ?? 0;
  const rejected = status.rejected?.length ?? 0;
  if (accepted === 0) return rejected > 0 ? 'Rejected' : 'Pending';
  if (inbound && states.some((s) => s === 'pending')) return 'PendingApproval';
  if (states.length > 0 && states.every((s) => s === 'unestablished' || s === 'rejected')) return 'Expired';
  // A refusal stays visible in the phase; Ready and sessionCounts tell how the accepted ones fare.
  if (rejected > 0) return 'PartiallyRejected';
  if (states.length > 0 && states.every((s) => s === 'established')) return 'Established';
  return inbound ? 'Approved' : 'Requested';
}

/** How one session of a request fares, for the request's Ready condition. */
export interface SessionReadiness {
  name: string;
  ready: boolean;
  reason: string;
  message?: string | undefined;
}

/**
 * Sessions of a request by what they wait for: agreed, or waiting for approval (a session whose state is not
 * known yet counts as waiting, so that a new inbound request does not look accepted for a moment).
 */
export function acceptedCounts(status: PeeringRequestStatus): { agreed: number; pending: number } {
  const accepted = status.accepted ?? [];
  const pending = accepted.filter((a) => a.state === 'pending' || a.state === undefined).length;
  return { agreed: accepted.length - pending, pending };
}

/** Whether the peer (or our policy, inbound) has answered anything of the request yet. */
export function hasAnswer(status: PeeringRequestStatus): boolean {
  return (status.accepted?.length ?? 0) + (status.rejected?.length ?? 0) > 0;
}

/** The order in which a request names its first session that is not ready: what is broken before what waits. */
const READINESS_ORDER: readonly string[] = [
  ERROR_CATALOG.BGP_DOWN.reason,
  ERROR_CATALOG.DUPLICATE_SESSION.reason,
];

/**
 * Accepted and Ready conditions of a request from its sessions. `failure` is this pass's failure (a missing
 * Secret, an unreachable peer): it is the Ready reason while nothing has been answered, so a new request never
 * sits blank.
 */
export function requestConditions(
  status: PeeringRequestStatus,
  readiness: readonly SessionReadiness[],
  options: { inbound: boolean; failure?: { reason: string; message: string } | undefined },
): DesiredCondition[] {
  const { agreed, pending } = acceptedCounts(status);
  const rejected = status.rejected?.length ?? 0;
  const firstRejection = status.rejected?.[0];
  const approver = options.inbound
    ? 'approve them with a PeeringApproval or spec.approved: true'
    : 'the peer has not approved them yet';
  const acceptedCondition: DesiredCondition =
    agreed > 0
      ? {
          type: 'Accepted',
          status: 'True',
          reason: rejected > 0 ? 'PartiallyAccepted' : 'Accepted',
          message:
            `${agreed} session(s) accepted` +
            (pending > 0 ? `, ${pending} waiting for approval` : '') +
            `, ${rejected} rejected`,
        }
      : pending > 0
        ? {
            type: 'Accepted',
            status: 'Unknown',
            reason: 'PendingApproval',
            message: `${pending} session(s) waiting for approval (${approver}), ${rejected} rejected`,
          }
        : rejected > 0 && firstRejection
          ? {
              type: 'Accepted',
              status: 'False',
              reason: options.inbound ? 'Rejected' : ERROR_CATALOG.PEER_REJECTED.reason,
              message: `every session was rejected; first: ${describeRejection(firstRejection)} (${firstRejection.reason})`,
            }
          : { type: 'Accepted', status: 'Unknown', reason: 'NotRequested', message: 'nothing requested yet' };
  const notReady = readiness
    .filter((r) => !r.ready)
    .sort((a, b) => rank(a.reason) - rank(b.reason) || a.name.localeCompare(b.name));
  const first = notReady[0];
  let ready: DesiredCondition;
  if (options.failure && !hasAnswer(status)) {
    ready = { type: 'Ready', status: 'False', ...options.failure };
  } else if (readiness.length > 0 && !first) {
    ready = {
      type: 'Ready',
      status: 'True',
      reason: 'Established',
      message: `all ${readiness.length} session(s) established`,
    };
  } else if (!first) {
    ready = {
      type: 'Ready',
      status: 'False',
      reason: acceptedCondition.reason,
      message: acceptedCondition.message,
    };
  } else {
    const detail = first.message && isFailureReason(first.reason) ? `: ${first.message}` : '';
    ready = {
      type: 'Ready',
      status: 'False',
      reason: first.reason,
      message: `${readiness.length - notReady.length} of ${readiness.length} session(s) ready; ${first.name} is not (${first.reason}${detail})`,
    };
  }
  return [acceptedCondition, ready];
}

function rank(reason: string): number {
  const index = READINESS_ORDER.indexOf(reason);
  return index === -1 ? READINESS_ORDER.length : index;
}
