import type { RemoteFieldError } from '../../client/errors.js';
import { ERROR_CATALOG } from '../../domain/errors.js';
import { naturalKey, type SessionStatus, type SessionTerms } from '../../domain/session.js';
import type { DesiredCondition } from '../resources/conditions.js';
import { recordKey } from './request-terms.js';
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
 * batch. Errors not tied to an index concern every session.
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
      field: first.field.slice(0, 256),
      code,
      reason: reasonOf(code),
      message: list
        .flatMap((e) => e.errors)
        .join('; ')
        .slice(0, 2048),
      generation,
    });
  }
  return out;
}

/** A catalog code's condition reason; the peer's unknown codes become a CamelCase reason of their own. */
export function reasonOf(code: string): string {
  const known = (ERROR_CATALOG as Record<string, { reason: string } | undefined>)[code.toUpperCase()];
  if (known) return known.reason;
  const camel = code
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
  return /^[A-Za-z]/.test(camel) ? camel.slice(0, 64) : 'Rejected';
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

/** Accepted and Ready conditions of a request from its sessions. */
export function requestConditions(
  status: PeeringRequestStatus,
  readiness: readonly { name: string; ready: boolean; reason: string }[],
): DesiredCondition[] {
  const accepted = status.accepted?.length ?? 0;
  const rejected = status.rejected?.length ?? 0;
  const firstRejection = status.rejected?.[0];
  const acceptedCondition: DesiredCondition =
    accepted > 0
      ? {
          type: 'Accepted',
          status: 'True',
          reason: rejected > 0 ? 'PartiallyAccepted' : 'Accepted',
          message: `${accepted} session(s) accepted, ${rejected} rejected`,
        }
      : rejected > 0 && firstRejection
        ? {
            type: 'Accepted',
            status: 'False',
            reason: firstRejection.reason,
            message: `every session was rejected; first: ${firstRejection.location} ${firstRejection.localIp}-${firstRejection.peerIp}: ${firstRejection.message}`,
          }
        : { type: 'Accepted', status: 'Unknown', reason: 'NotRequested', message: 'nothing requested yet' };
  const notReady = readiness.filter((r) => !r.ready);
  const ready: DesiredCondition =
    readiness.length > 0 && notReady.length === 0
      ? {
          type: 'Ready',
          status: 'True',
          reason: 'Established',
          message: `all ${readiness.length} session(s) established`,
        }
      : {
          type: 'Ready',
          status: 'False',
          reason: notReady[0]?.reason ?? acceptedCondition.reason,
          message:
            readiness.length === 0
              ? acceptedCondition.message
              : `${readiness.length - notReady.length} of ${readiness.length} session(s) ready; ${notReady[0]?.name} is not (${notReady[0]?.reason})`,
        };
  return [acceptedCondition, ready];
}
