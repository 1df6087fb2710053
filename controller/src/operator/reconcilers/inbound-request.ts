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

export interface InboundRequestDeps {
  sessions: ResourceCollection<PeeringSession>;
  sessionsOf: (namespace: string, requestName: string) => PeeringSession[];
  events: EventRecorder;
  /** The draft's counter-request, when the policy turns it on. */
  counterRequests?: CounterRequests | undefined;
}

/**
 * The inbound half of the PeeringRequest reconciler, for requests our API server wrote: creates the
 * PeeringSessions a crash left missing, and approves pending sessions when a person sets `spec.approved: true`.
 */
export class InboundRequests {
  constructor(private readonly deps: InboundRequestDeps) {}

  async reconcile(request: PeeringRequest, spec: PeeringRequestSpec): Promise<RequestPass> {
    const sessions = this.deps.sessionsOf(request.metadata.namespace, request.metadata.name);
    // Our API server writes the request, then its sessions, then this status; a crash in between is repaired
    // here. Once the status says so, a missing session was removed on purpose (DELETE) and stays gone.
    if (request.status?.requestId === undefined && spec.inbound) await this.repair(request, spec, sessions);
    if (spec.approved) await this.approve(request, sessions);
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
    const counter = (await this.deps.counterRequests?.consider(request, spec)) ?? {};
    return {
      request,
      status,
      conditions: counter.condition ? [counter.condition] : [],
      requeueAfterMs: counter.requeueAfterMs,
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

  private async approve(request: PeeringRequest, sessions: PeeringSession[]) {
    for (const session of sessions) {
      if (session.status?.state !== 'pending' || isDeleting(session.metadata)) continue;
      await this.deps.sessions.updateStatus({
        ...session,
        status: {
          ...session.status,
          state: 'approved',
          stateReason: 'approved by spec.approved on the PeeringRequest',
        },
      });
      this.deps.events.record(
        session,
        'Normal',
        'Approved',
        `approved through PeeringRequest ${request.metadata.name}`,
      );
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
