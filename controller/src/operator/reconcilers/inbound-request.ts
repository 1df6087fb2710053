import { SESSION_FINALIZER } from '../resources/api-group.js';
import { controllerReference, isDeleting } from '../resources/object.js';
import type {
  AcceptedSession,
  PeeringRequest,
  PeeringRequestSpec,
  PeeringRequestStatus,
  RequestedSession,
} from '../resources/peering-request.js';
import { peeringSession, sessionSpec, type PeeringSession } from '../resources/peering-session.js';
import { isConflict } from '../backing/errors.js';
import type { ResourceCollection } from '../backing/resource-collection.js';
import type { EventRecorder } from '../runtime/events.js';
import { sessionLabels, sessionName } from './naming.js';
import { requestedTerms } from './request-terms.js';
import type { CounterRequests } from './counter-request.js';
import type { RequestPass } from './outbound-request.js';
import type { PeeringApproval } from '../resources/peering-approval.js';
import { approvalTarget, approves } from './approvals.js';
import type { Clock } from '../../time/clock.js';

/** How long an inbound request left without sessions stays to say so before it is removed. */
export const DEFAULT_EMPTY_REQUEST_GRACE_MS = 10 * 60_000;

export interface InboundRequestDeps {
  requests: ResourceCollection<PeeringRequest>;
  sessions: ResourceCollection<PeeringSession>;
  sessionsOf: (namespace: string, requestName: string) => PeeringSession[];
  events: EventRecorder;
  /** The draft's counter-request, when the policy turns it on. */
  counterRequests?: CounterRequests | undefined;
  clock: Clock;
  /** The PeeringApprovals of a namespace (informer cache): approvals in git, valid before the request exists. */
  approvals?: ((namespace: string) => PeeringApproval[]) | undefined;
  /** An inbound request without sessions (all de-peered, or all refused) is removed this long after. */
  emptyRequestGraceMs?: number | undefined;
}

/**
 * The inbound half of the PeeringRequest reconciler, for requests our API server wrote: creates the
 * PeeringSessions a crash left missing, approves pending sessions when a person sets `spec.approved: true`, and
 * removes a request left without sessions (the peer de-peered them all, or our policy refused them all) after a
 * grace period in which it says so, so that nothing stays `Pending` forever.
 */
export class InboundRequests {
  constructor(private readonly deps: InboundRequestDeps) {}

  async reconcile(request: PeeringRequest, spec: PeeringRequestSpec): Promise<RequestPass> {
    const sessions = this.deps.sessionsOf(request.metadata.namespace, request.metadata.name);
    // Our API server writes the request, then its sessions, then this status; a crash in between is repaired
    // here. Once the status says so, a missing session was removed on purpose (DELETE) and stays gone.
    if (request.status?.requestId === undefined && spec.inbound) await this.repair(request, spec, sessions);
    await this.approve(request, spec, sessions);
    const accepted: AcceptedSession[] = sessions
      .filter((s) => !isDeleting(s.metadata))
      .map((s) => ({
        name: s.metadata.name,
        sessionId: s.spec.sessionId,
        location: s.spec.location.id,
        localIp: s.spec.localIp,
        peerIp: s.spec.peerIp,
        ...(s.status?.state ? { state: s.status.state } : {}),
      }));
    const status: PeeringRequestStatus = {
      ...request.status,
      requestId: spec.inbound?.requestId,
      accepted,
      rejected: spec.inbound?.rejections ?? [],
    };
    if (request.status?.requestId !== undefined && sessions.length === 0) return this.empty(request, status);
    delete status.emptySince;
    const counter = (await this.deps.counterRequests?.consider(request, spec)) ?? {};
    return {
      request,
      status,
      conditions: counter.condition ? [counter.condition] : [],
      requeueAfterMs: counter.requeueAfterMs,
    };
  }

  /** A complete request without sessions: said so, and removed once the grace period is over. */
  private async empty(request: PeeringRequest, status: PeeringRequestStatus): Promise<RequestPass> {
    const now = this.deps.clock.now();
    const grace = this.deps.emptyRequestGraceMs ?? DEFAULT_EMPTY_REQUEST_GRACE_MS;
    const since = status.emptySince === undefined ? now : Date.parse(status.emptySince);
    const { namespace, name } = request.metadata;
    if (now - since >= grace) {
      await this.deps.requests.delete(namespace, name);
      this.deps.events.record(request, 'Normal', 'Removed', 'no session left: the request is removed');
      return { request, status, conditions: [], gone: true };
    }
    const removal = new Date(since + grace).toISOString();
    const hadSessions = (request.spec.sessions ?? []).length > 0;
    return {
      request,
      status: { ...status, emptySince: new Date(since).toISOString() },
      conditions: [],
      requeueAfterMs: since + grace - now,
      ...(hadSessions
        ? {
            dePeered: {
              reason: 'DePeered',
              message: `every session was de-peered; this request is removed at ${removal}`,
            },
          }
        : {}),
    };
  }

  private async repair(request: PeeringRequest, spec: PeeringRequestSpec, sessions: PeeringSession[]) {
    const have = new Set(sessions.map((s) => s.metadata.name));
    for (const wanted of spec.sessions ?? []) {
      const session = inboundSession(request, spec, wanted);
      if (!session || have.has(session.metadata.name)) continue;
      try {
        await this.deps.sessions.create(session);
      } catch (error) {
        if (!(isConflict(error) && error.alreadyExists)) throw error;
      }
    }
  }

  /** Pending sessions approved by `spec.approved` on the request, or by a PeeringApproval that covers them. */
  private async approve(request: PeeringRequest, spec: PeeringRequestSpec, sessions: PeeringSession[]) {
    const approvals = this.deps.approvals?.(request.metadata.namespace) ?? [];
    if (spec.approved !== true && approvals.length === 0) return;
    const covering = (session: PeeringSession) => {
      const target = approvalTarget(session);
      const approval = target && approvals.find((a) => approves(a, target));
      return approval && `PeeringApproval ${approval.metadata.name}`;
    };
    for (const session of sessions) {
      if (session.status?.state !== 'pending' || isDeleting(session.metadata)) continue;
      const reason =
        spec.approved === true
          ? `spec.approved on PeeringRequest ${request.metadata.name}`
          : covering(session);
      if (reason === undefined) continue;
      await this.deps.sessions.updateStatus({
        ...session,
        status: { ...session.status, state: 'approved', stateReason: `approved by ${reason}` },
      });
      this.deps.events.record(session, 'Normal', 'Approved', `approved by ${reason}`);
    }
  }
}

/** The PeeringSession of one session of an inbound request (our reading: local = us). */
export function inboundSession(
  request: PeeringRequest,
  spec: PeeringRequestSpec,
  wanted: RequestedSession,
): PeeringSession | undefined {
  if (!wanted.sessionId || !spec.inbound) return undefined;
  const terms = requestedTerms(spec, wanted);
  return peeringSession(
    request.metadata.namespace,
    sessionName(terms),
    sessionSpec(terms, {
      direction: 'Inbound',
      sessionId: wanted.sessionId,
      requestId: spec.inbound.requestId,
    }),
    {
      labels: sessionLabels(
        request.metadata.name,
        'inbound',
        terms.peerAsn,
        wanted.sessionId,
        spec.inbound.requestId,
      ),
      annotations: {
        'peering.autopeer.dev/initial-state': wanted.initialState ?? 'pending',
        'peering.autopeer.dev/requested-by': spec.inbound.requestedBy.slice(0, 512),
      },
      ownerReferences: request.metadata.uid ? [controllerReference(request)] : undefined,
      finalizers: [SESSION_FINALIZER],
    },
  );
}
