import type { FieldError } from '../domain/errors.js';
import { sessionTerms, type SessionKey, type SessionStatus } from '../domain/session.js';
import type {
  NewSession,
  SessionPage,
  SessionStore,
  StoredRequest,
  StoredSession,
  SubmitResult,
} from './store.js';
import { ANNOTATION, LABEL } from '../operator/resources/api-group.js';
import { isDeleting } from '../operator/resources/object.js';
import {
  peeringRequest,
  type PeeringRequest,
  type PeeringRequestSpec,
  type SessionRejection,
} from '../operator/resources/peering-request.js';
import type { PeeringSession } from '../operator/resources/peering-session.js';
import { isConflict } from '../operator/backing/errors.js';
import type { ResourceCollection } from '../operator/backing/resource-collection.js';
import { clientRequestHash, inboundRequestName, sessionName } from '../operator/reconcilers/naming.js';
import { reasonOf } from '../operator/reconcilers/request-decisions.js';
import { requestedSession } from '../operator/reconcilers/request-terms.js';
import { inboundSession } from '../operator/reconcilers/inbound-request.js';

/**
 * The API server's {@link SessionStore} on our resources, so that in a cluster `POST /sessions` writes an Inbound
 * PeeringRequest and its PeeringSessions and `GET /sessions` reads them. The same class runs on the embedded
 * store when standalone.
 *
 * Atomicity without transactions: the request object is written first and holds everything (the sessions with
 * their ids, the rejections), so it alone is the record; the sessions follow, with names derived from their
 * natural keys (a second create of the same session fails instead of duplicating it), and a crash in between
 * is repaired by the request reconciler. A client request id maps to the request's name, so the same id twice
 * finds the first request instead of writing a second.
 *
 * @example
 * const store = new ResourceSessionStore(requests, sessions, 'peering');
 * const runtime = await startApiRuntime(config, { store });
 */
export class ResourceSessionStore implements SessionStore {
  constructor(
    private readonly requests: ResourceCollection<PeeringRequest>,
    private readonly sessions: ResourceCollection<PeeringSession>,
    private readonly namespace: string,
  ) {}

  async submit(request: StoredRequest, sessions: NewSession[]): Promise<SubmitResult> {
    const name = inboundRequestName(request.peerAsn, request.requestId, request.clientRequestId);
    if (request.clientRequestId !== undefined) {
      const seen = await this.requests.get(this.namespace, name);
      if (seen) return this.replay(seen);
    }
    // A session whose natural key exists already is answered as it is (docs/api.md §6).
    const chosen: { fresh: boolean; session: NewSession | StoredSession }[] = [];
    for (const session of sessions) {
      const existing = await this.findByKey(session.terms);
      chosen.push(existing ? { fresh: false, session: existing } : { fresh: true, session });
    }
    const fresh = chosen.filter((c) => c.fresh).map((c) => c.session as NewSession);
    if (fresh.length === 0 && request.errors.length === 0) {
      // Nothing new and nothing refused: the answer is the existing sessions; an inbound request holding
      // neither would only be litter (it would sit Pending for good).
      const existing = chosen.map((c) => c.session as StoredSession);
      return {
        request: { ...request, sessionIds: existing.map((s) => s.sessionId) },
        sessions: existing,
        replayed: false,
      };
    }
    // The request shows the first session's ASNs; a session with others carries its own.
    const localAsn = sessions[0]?.terms.localAsn ?? 0;
    const spec: PeeringRequestSpec = {
      direction: 'Inbound',
      localAsn,
      peerAsn: request.peerAsn,
      addressFamilies: ['ipv4', 'ipv6'],
      approved: fresh.length > 0 && fresh.every((s) => s.status === 'approved'),
      sessions: fresh.map((session) => ({
        ...requestedSession(session.terms, { localAsn, peerAsn: request.peerAsn }),
        sessionId: session.sessionId,
        initialState: session.status === 'approved' ? 'approved' : 'pending',
      })),
      inbound: {
        requestId: request.requestId,
        ...(request.clientRequestId === undefined ? {} : { clientRequestId: request.clientRequestId }),
        ...(request.returnUrl === undefined ? {} : { returnUrl: request.returnUrl.slice(0, 2048) }),
        requestedBy: request.createdBy.slice(0, 512),
        receivedAt: request.createdAt,
        rejections: request.errors.map(toRejection),
      },
    };
    if (spec.sessions?.length === 0) delete spec.sessions;
    // `approved` is a person's field (an approval applied server-side sets it): written only when our policy
    // approved everything, so that we own it only with the value a person would give it. Absent, it reads false.
    const written: PeeringRequestSpec = { ...spec };
    if (spec.approved !== true) delete written.approved;
    const labels: Record<string, string> = {
      [LABEL.direction]: 'inbound',
      [LABEL.peerAsn]: String(request.peerAsn),
      [LABEL.requestId]: request.requestId,
    };
    if (request.clientRequestId !== undefined) {
      labels[LABEL.clientRequest] = clientRequestHash(request.peerAsn, request.clientRequestId);
    }
    let created: PeeringRequest;
    try {
      created = await this.requests.create(
        peeringRequest(this.namespace, name, written, {
          labels,
          annotations: { [ANNOTATION.requestedBy]: request.createdBy.slice(0, 512) },
        }),
      );
    } catch (error) {
      // The same client request id, at the same moment: the other writer's request is the answer.
      if (isConflict(error) && error.alreadyExists) {
        const winner = await this.requests.get(this.namespace, name);
        if (winner) return this.replay(winner);
      }
      throw error;
    }

    const result: StoredSession[] = [];
    for (const item of chosen) {
      if (!item.fresh) {
        result.push(item.session as StoredSession);
        continue;
      }
      const wanted = (spec.sessions ?? []).find(
        (s) => s.sessionId === (item.session as NewSession).sessionId,
      );
      const object = wanted && inboundSession(created, spec, wanted);
      if (!object) continue;
      try {
        result.push(toStoredSession(await this.sessions.create(object)));
      } catch (error) {
        if (!(isConflict(error) && error.alreadyExists)) throw error;
        const winner = await this.sessions.get(this.namespace, object.metadata.name);
        if (winner) result.push(toStoredSession(winner));
      }
    }
    // Marks the request complete: from now on a missing session was removed on purpose.
    await this.requests
      .updateStatus({
        ...created,
        status: {
          requestId: request.requestId,
          phase: spec.approved ? 'Approved' : 'PendingApproval',
          rejected: spec.inbound?.rejections ?? [],
        },
      })
      .catch((error: unknown) => {
        if (!isConflict(error)) throw error;
      });
    return {
      request: { ...request, sessionIds: result.map((s) => s.sessionId) },
      sessions: result,
      replayed: false,
    };
  }

  async findRequest(peerAsns: readonly number[], id: string): Promise<StoredRequest | undefined> {
    if (/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(id)) {
      const { items } = await this.requests.list({
        namespace: this.namespace,
        labels: { [LABEL.requestId]: id },
      });
      const mine = items.find((r) => peerAsns.includes(r.spec.peerAsn) && r.spec.direction === 'Inbound');
      if (mine) return toStoredRequest(mine);
    }
    for (const asn of peerAsns) {
      const byClientId = await this.requests.get(this.namespace, inboundRequestName(asn, '', id));
      if (byClientId && byClientId.spec.inbound?.clientRequestId === id) return toStoredRequest(byClientId);
    }
    return undefined;
  }

  async findByKey(key: SessionKey): Promise<StoredSession | undefined> {
    const existing = await this.sessions.get(this.namespace, sessionName(key));
    return existing && !isDeleting(existing.metadata) ? toStoredSession(existing) : undefined;
  }

  async get(sessionId: string): Promise<StoredSession | undefined> {
    const found = await this.inboundSessions({ [LABEL.sessionId]: sessionId });
    return found[0] && toStoredSession(found[0]);
  }

  async list(query: {
    peerAsns: readonly number[];
    requestId?: string | undefined;
    cursor?: string | undefined;
    limit: number;
  }): Promise<SessionPage> {
    if (query.peerAsns.length === 0) return { sessions: [] };
    const labels: Record<string, string | readonly string[]> = {
      [LABEL.peerAsn]: query.peerAsns.map(String),
    };
    if (query.requestId !== undefined) labels[LABEL.requestId] = query.requestId;
    const all = (await this.inboundSessions(labels)).sort((a, b) => position(a).localeCompare(position(b)));
    const after =
      query.cursor === undefined ? all : all.filter((s) => position(s) > (query.cursor as string));
    const page = after.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      sessions: page.map(toStoredSession),
      cursor: after.length > query.limit && last ? position(last) : undefined,
    };
  }

  async remove(sessionIds: readonly string[], by: string): Promise<string[]> {
    const removed: string[] = [];
    for (const id of sessionIds) {
      const [session] = await this.inboundSessions({ [LABEL.sessionId]: id });
      if (!session) continue;
      try {
        // Who removed it stays on the object while its finalizer takes it off the router.
        await this.sessions.update({
          ...session,
          metadata: {
            ...session.metadata,
            annotations: { ...session.metadata.annotations, [ANNOTATION.removedBy]: by.slice(0, 512) },
          },
        });
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
      if (await this.sessions.delete(session.metadata.namespace, session.metadata.name)) removed.push(id);
    }
    return removed;
  }

  async setStatus(sessionId: string, status: SessionStatus, reason?: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const [session] = await this.inboundSessions({ [LABEL.sessionId]: sessionId });
      if (!session) return;
      const next = { ...session.status, state: status };
      if (reason === undefined) delete next.stateReason;
      else next.stateReason = reason.slice(0, 1024);
      try {
        await this.sessions.updateStatus({ ...session, status: next });
        return;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
  }

  async countByStatus(peerAsn: number, status: SessionStatus): Promise<number> {
    const sessions = await this.inboundSessions({ [LABEL.peerAsn]: String(peerAsn) });
    return sessions.filter((s) => stateOf(s) === status).length;
  }

  async all(): Promise<StoredSession[]> {
    return (await this.inboundSessions({})).map(toStoredSession);
  }

  async close(): Promise<void> {}

  private async replay(request: PeeringRequest): Promise<SubmitResult> {
    const stored = toStoredRequest(request);
    const sessions = (await this.inboundSessions({ [LABEL.request]: request.metadata.name })).map(
      toStoredSession,
    );
    const byId = new Map(sessions.map((s) => [s.sessionId, s]));
    return {
      request: stored,
      sessions: stored.sessionIds.flatMap((id) => {
        const session = byId.get(id);
        return session ? [session] : [];
      }),
      replayed: true,
    };
  }

  /** Inbound sessions of our namespace, without those being deleted (gone from reads at once). */
  private async inboundSessions(
    labels: Record<string, string | readonly string[]>,
  ): Promise<PeeringSession[]> {
    const { items } = await this.sessions.list({
      namespace: this.namespace,
      labels: { [LABEL.direction]: 'inbound', ...labels },
    });
    return items.filter((s) => !isDeleting(s.metadata));
  }
}

function toRejection(error: FieldError): SessionRejection {
  return {
    field: error.name.slice(0, 256),
    code: error.code,
    reason: reasonOf(error.code),
    message: error.errors.join('\n').slice(0, 2048),
  };
}

function toStoredRequest(request: PeeringRequest): StoredRequest {
  const inbound = request.spec.inbound;
  return {
    requestId: inbound?.requestId ?? request.metadata.name,
    peerAsn: request.spec.peerAsn,
    clientRequestId: inbound?.clientRequestId,
    returnUrl: inbound?.returnUrl,
    errors: (inbound?.rejections ?? []).map((r) => ({
      name: r.field ?? 'request',
      errors: r.message.split('\n'),
      code: r.code as FieldError['code'],
    })),
    sessionIds: (request.spec.sessions ?? []).flatMap((s) => (s.sessionId ? [s.sessionId] : [])),
    createdAt: inbound?.receivedAt ?? request.metadata.creationTimestamp ?? new Date(0).toISOString(),
    createdBy: inbound?.requestedBy ?? '',
  };
}

function stateOf(session: PeeringSession): SessionStatus {
  const initial = session.metadata.annotations?.[ANNOTATION.initialState];
  return session.status?.state ?? (initial === 'approved' ? 'approved' : 'pending');
}

function toStoredSession(session: PeeringSession): StoredSession {
  const created = session.metadata.creationTimestamp ?? new Date(0).toISOString();
  const changed = (session.status?.conditions ?? []).map((c) => c.lastTransitionTime).sort();
  return {
    sessionId: session.spec.sessionId,
    requestId: session.spec.requestId ?? '',
    terms: sessionTerms(session.spec),
    status: stateOf(session),
    statusReason: session.status?.stateReason,
    createdAt: created,
    updatedAt: changed[changed.length - 1] ?? created,
    acceptedAt: session.status?.acceptedAt,
    createdBy: session.metadata.annotations?.[ANNOTATION.requestedBy] ?? '',
  };
}

/** A stable listing order: creation time, then name. */
function position(session: PeeringSession): string {
  return `${session.metadata.creationTimestamp ?? ''}|${session.metadata.name}`;
}
