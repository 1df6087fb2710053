import { randomUUID } from 'node:crypto';
import type { RemoteSession } from '../../client/answers.js';
import type { RequestSessionsResult } from '../../client/client.js';
import { PeeringApiError, type RemoteFieldError } from '../../client/errors.js';
import type { Discovery, DiscoveryQuery } from '../../discovery/common-locations.js';
import { PeeringError } from '../../domain/errors.js';
import { ClientRequestIdSchema } from '../../domain/session.js';
import { LABEL, REQUEST_FINALIZER, SESSION_FINALIZER } from '../resources/api-group.js';
import { isConditionTrue, setConditions, type DesiredCondition } from '../resources/conditions.js';
import { controllerReference, firstSpecIssue, hasFinalizer, isDeleting } from '../resources/object.js';
import {
  PeeringRequestSpecSchema,
  type AcceptedSession,
  type PeeringRequest,
  type PeeringRequestSpec,
  type PeeringRequestStatus,
  type RequestIntent,
} from '../resources/peering-request.js';
import { peeringSession, type PeeringSession } from '../resources/peering-session.js';
import { connectOutbound, type PeerTokenSources } from '../peer/credentials.js';
import type { PeerApi, PeerApiConnector } from '../peer/peer-api.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import type { ReconcileResult } from '../runtime/controller.js';
import type { EventRecorder } from '../runtime/events.js';
import { silentLogger, type Logger } from '../runtime/logger.js';
import { isConflict } from '../backing/errors.js';
import type { ResourceCollection, SecretReader } from '../backing/resource-collection.js';
import { ensureFinalizer, releaseFinalizer } from './finalizers.js';
import { sessionName } from './naming.js';
import {
  keyText,
  rejectionsOf,
  requestConditions,
  requestPhase,
  sessionsToRemove,
  sessionsToRequest,
  wantedFromSpec,
  type WantedSession,
} from './request-decisions.js';
import { asFailure } from './session-reconciler.js';
import { recordTransitions, sameStatus } from './status.js';

/** Points where a test may stop the operator as a crash would (issue: kill it at each step). */
export interface CrashPoints {
  /** The intent is recorded, the POST not yet sent. */
  afterIntent?(): void | Promise<void>;
  /** The peer answered, the answer is not recorded yet. */
  afterPost?(): void | Promise<void>;
  /** The answer is recorded, the PeeringSessions not yet created. */
  afterRecord?(): void | Promise<void>;
}

export interface RequestReconcilerDeps {
  requests: ResourceCollection<PeeringRequest>;
  sessions: ResourceCollection<PeeringSession>;
  cached: (key: string) => PeeringRequest | undefined;
  /** The sessions of a request (informer cache, by the request label). */
  sessionsOf: (namespace: string, requestName: string) => PeeringSession[];
  secrets: SecretReader;
  /** Tokens for peers' APIs from the resources' credentials. */
  tokens: PeerTokenSources;
  peers: PeerApiConnector;
  events: EventRecorder;
  /** Finds candidate sessions from PeeringDB for requests without explicit sessions. */
  discover?: ((query: DiscoveryQuery) => Promise<Discovery>) | undefined;
  clock?: Clock;
  logger?: Logger;
  newId?: () => string;
  crashPoints?: CrashPoints;
}

const MAX_BATCH = 100;

/**
 * Reconciles PeeringRequests.
 *
 * Outbound: resolves the wanted sessions (explicit, or discovered from PeeringDB and the peer's locations), and
 * asks the peer for those not yet answered, behind a crash-safe intent: the intent (a fresh id, sent as the
 * client `request_id`) is written to the status with a resourceVersion precondition before the POST, and the
 * answer replaces it after. A restart that finds an intent asks the peer what it recorded under that id, and
 * posts again only when the peer has nothing — so one intent never creates anything twice. Accepted sessions
 * become PeeringSessions owned by the request; rejected ones are kept with their reasons.
 *
 * Inbound (written by our API server): creates missing PeeringSessions after a crash, and approves pending
 * sessions when a person sets `spec.approved: true`.
 *
 * Deleting a request deletes its sessions, which de-peer through their own finalizer, and then lets it go.
 */
export class RequestReconciler {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly newId: () => string;

  constructor(private readonly deps: RequestReconcilerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.logger = (deps.logger ?? silentLogger).child({ controller: 'peeringrequest' });
    this.newId = deps.newId ?? randomUUID;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const cached = this.deps.cached(key);
    if (!cached) return {};
    if (isDeleting(cached.metadata)) return this.finalize(cached);
    const request = await ensureFinalizer(this.deps.requests, cached, REQUEST_FINALIZER);
    const parsed = PeeringRequestSpecSchema.safeParse(request.spec);
    if (!parsed.success) {
      const message = firstSpecIssue(parsed.error);
      await this.writeStatus(request, { ...request.status, phase: 'Failed' }, [
        { type: 'Ready', status: 'False', reason: 'InvalidSpec', message },
      ]);
      return {};
    }
    return parsed.data.direction === 'Inbound'
      ? this.reconcileInbound(request, parsed.data)
      : this.reconcileOutbound(request, parsed.data);
  }

  // ---- outbound ------------------------------------------------------------------------------------------

  private async reconcileOutbound(
    request: PeeringRequest,
    spec: PeeringRequestSpec,
  ): Promise<ReconcileResult> {
    const generation = request.metadata.generation ?? 0;
    let status: PeeringRequestStatus = { ...request.status };
    let synced: DesiredCondition | undefined;
    try {
      const api = await this.peerApi(request, spec);
      // A. An intent left by a crash (or an uncertain failure): what did the peer record under its id?
      if (status.intent) {
        const intent = status.intent;
        const recorded = await api.sessionsOfRequest(spec.localAsn, intent.id);
        if (recorded.length > 0) {
          ({ request, status } = await this.recordAnswer(
            request,
            intent,
            this.recoveredAnswer(intent, recorded),
          ));
        } else {
          const wanted = await this.resolve(request, spec, api);
          const batch = intent.sessions
            .map((k) => wanted.find((w) => keyText(w.key) === keyText(k)))
            .filter((w): w is WantedSession => w !== undefined);
          if (batch.length === 0) {
            ({ request, status } = await this.recordAnswer(request, intent, {
              requestId: undefined,
              sessions: [],
              errors: [],
            }));
          } else {
            ({ request, status } = await this.post(request, intent, batch, api, spec));
          }
        }
      }

      // B. What the spec wants now, against what has been answered.
      const resolved =
        status.observedGeneration !== generation || status.phase === 'Pending' || status.phase === undefined;
      if (resolved) {
        const wanted = await this.resolve(request, spec, api);
        for (const gone of sessionsToRemove(wanted, status)) {
          await this.deps.sessions.delete(request.metadata.namespace, gone.name);
          status = { ...status, accepted: (status.accepted ?? []).filter((a) => a.name !== gone.name) };
        }
        status = {
          ...status,
          rejected: (status.rejected ?? []).filter((r) => wanted.some((w) => keyText(w.key) === keyText(r))),
        };
        const pending = sessionsToRequest(wanted, status, generation);
        while (pending.length > 0) {
          const batch = pending.splice(0, MAX_BATCH);
          const intent: RequestIntent = {
            id: this.newId(),
            generation,
            startedAt: new Date(this.clock.now()).toISOString(),
            sessions: batch.map((w) => w.key),
          };
          // The intent goes on record first, and only if nobody wrote the request meanwhile.
          request = await this.deps.requests.updateStatus({
            ...request,
            status: { ...status, intent, phase: 'Requesting' },
          });
          status = { ...request.status };
          await this.deps.crashPoints?.afterIntent?.();
          ({ request, status } = await this.post(request, intent, batch, api, spec));
        }
      }
      synced = { type: 'Synced', status: 'True', reason: 'Synced', message: 'the peer answered' };
    } catch (error) {
      if (isConflict(error)) throw error;
      const failure = asFailure(error);
      synced = { type: 'Synced', status: 'False', reason: failure.reason, message: failure.message };
      await this.writeStatus(request, { ...request.status }, [synced]).catch(() => undefined);
      throw error;
    }

    // C. A PeeringSession for every accepted session (creating one twice fails harmlessly).
    await this.ensureSessions(request, spec, status.accepted ?? []);
    return this.summarize(request, status, false, [synced], generation);
  }

  /** One POST for one intent, and its answer on record. */
  private async post(
    request: PeeringRequest,
    intent: RequestIntent,
    batch: WantedSession[],
    api: PeerApi,
    spec: PeeringRequestSpec,
  ): Promise<{ request: PeeringRequest; status: PeeringRequestStatus }> {
    let answer: Pick<RequestSessionsResult, 'requestId' | 'sessions' | 'errors'>;
    try {
      answer = await api.requestSessions(
        batch.map((w) => w.proposal),
        intent.id,
      );
    } catch (error) {
      // A definite "no" (nothing was recorded) is an answer; anything uncertain keeps the intent for recovery.
      if (error instanceof PeeringApiError && [400, 403, 422].includes(error.httpStatus ?? 0)) {
        answer = { requestId: undefined, sessions: [], errors: refusalErrors(error, batch.length) };
      } else {
        throw error;
      }
    }
    await this.deps.crashPoints?.afterPost?.();
    const recorded = await this.recordAnswer(request, intent, answer);
    await this.deps.crashPoints?.afterRecord?.();
    const accepted = answer.sessions.length;
    this.deps.events.record(
      recorded.request,
      answer.errors.length > 0 ? 'Warning' : 'Normal',
      'Requested',
      `AS${spec.peerAsn} accepted ${accepted} of ${intent.sessions.length} session(s)` +
        (answer.requestId ? ` (request ${answer.requestId})` : ''),
    );
    return recorded;
  }

  /**
   * Replaces the intent by its answer, re-reading and re-applying on conflicts: an answer received is never lost
   * to a concurrent write.
   */
  private async recordAnswer(
    request: PeeringRequest,
    intent: RequestIntent,
    answer: Pick<RequestSessionsResult, 'requestId' | 'sessions' | 'errors'>,
  ): Promise<{ request: PeeringRequest; status: PeeringRequestStatus }> {
    const accepted: AcceptedSession[] = [];
    const batchKeys = new Set(intent.sessions.map(keyText));
    for (const session of answer.sessions) {
      const entry = acceptedEntry(request.spec.peerAsn, session);
      if (batchKeys.has(keyText(entry)) || batchKeys.size === 0) accepted.push(entry);
    }
    const rejected = rejectionsOf(intent.sessions, answer.errors, intent.generation);
    let current = request;
    for (let attempt = 0; ; attempt++) {
      const status: PeeringRequestStatus = { ...current.status };
      if (status.intent?.id !== intent.id) return { request: current, status };
      const replaced = new Set([...accepted, ...rejected].map(keyText));
      status.accepted = [...(status.accepted ?? []).filter((a) => !replaced.has(keyText(a))), ...accepted];
      status.rejected = [...(status.rejected ?? []).filter((r) => !replaced.has(keyText(r))), ...rejected];
      const requestId = answer.requestId ?? intent.id;
      status.requestId = ClientRequestIdSchema.safeParse(requestId).success ? requestId : intent.id;
      delete status.intent;
      status.phase = requestPhase(status, [], false);
      try {
        const written = await this.deps.requests.updateStatus({ ...current, status });
        return { request: written, status: { ...written.status } };
      } catch (error) {
        if (!isConflict(error) || attempt >= 5) throw error;
        const fresh = await this.deps.requests.get(current.metadata.namespace, current.metadata.name);
        if (!fresh) throw error;
        current = fresh;
      }
    }
  }

  /** After a crash, the peer's record of the intent's request id is the answer (its reasons for refusals are not). */
  private recoveredAnswer(
    intent: RequestIntent,
    recorded: RemoteSession[],
  ): Pick<RequestSessionsResult, 'requestId' | 'sessions' | 'errors'> {
    const found = new Set(
      recorded.map((s) => keyText({ location: s.location.id, localIp: s.localIp, peerIp: s.peerIp })),
    );
    const errors: RemoteFieldError[] = intent.sessions.flatMap((key, index) =>
      found.has(keyText(key))
        ? []
        : [
            {
              name: `sessions[${index}]`,
              field: `sessions[${index}]`,
              code: 'NOT_RECORDED',
              errors: [
                `the peer did not record this session under request ${intent.id}; its reason was lost in a restart`,
              ],
            },
          ],
    );
    return { requestId: undefined, sessions: recorded, errors };
  }

  private async resolve(
    request: PeeringRequest,
    spec: PeeringRequestSpec,
    api: PeerApi,
  ): Promise<WantedSession[]> {
    const namespace = request.metadata.namespace;
    const secret = async (ref: { name: string; key: string } | undefined) =>
      ref ? await this.deps.secrets.read(namespace, ref.name, ref.key) : undefined;
    if (spec.sessions !== undefined) {
      const out: WantedSession[] = [];
      for (const session of spec.sessions) {
        out.push(
          wantedFromSpec(spec.localAsn, spec.peerAsn, session, await secret(session.sessionSecretRef)),
        );
      }
      return out;
    }
    if (!this.deps.discover) {
      throw new PeeringError(
        'INVALID_CONFIG',
        'this operator has no PeeringDB source to discover sessions from; list spec.sessions explicitly',
        'spec.sessions',
      );
    }
    const offered = await api.locations(spec.peerAsn);
    const found = await this.deps.discover({
      localAsn: spec.localAsn,
      peerAsn: spec.peerAsn,
      offered: offered.map((l) => ({ id: l.id, localIps: l.localIps })),
      only: spec.locations,
      families: spec.addressFamilies,
    });
    const defaults = spec.sessionDefaults;
    const defaultSecret = await secret(defaults?.sessionSecretRef);
    return found.sessions.map((candidate) => {
      const wanted = wantedFromSpec(
        spec.localAsn,
        spec.peerAsn,
        {
          location: candidate.location.id,
          localIp: candidate.localIp,
          peerIp: candidate.peerIp,
          localBgpRole: defaults?.localBgpRole,
          peerBgpRole: defaults?.peerBgpRole,
          localInsertAsn: true,
          peerInsertAsn: true,
          localMonitoringSession: false,
          peerMonitoringSession: false,
          sessionSecretRef: defaults?.sessionSecretRef,
        },
        defaultSecret,
      );
      return wanted;
    });
  }

  private async ensureSessions(
    request: PeeringRequest,
    spec: PeeringRequestSpec,
    accepted: AcceptedSession[],
  ) {
    const existing = new Set(
      this.deps.sessionsOf(request.metadata.namespace, request.metadata.name).map((s) => s.metadata.name),
    );
    const explicit = new Map((spec.sessions ?? []).map((s) => [keyText(s), s]));
    for (const entry of accepted) {
      if (existing.has(entry.name)) continue;
      const asked = explicit.get(keyText(entry));
      const session = peeringSession(
        request.metadata.namespace,
        entry.name,
        {
          direction: 'Outbound',
          sessionId: entry.sessionId,
          requestId: request.status?.requestId,
          localAsn: spec.localAsn,
          localIp: entry.localIp,
          peerAsn: spec.peerAsn,
          peerIp: entry.peerIp,
          localBgpRole: asked?.localBgpRole ?? spec.sessionDefaults?.localBgpRole,
          peerBgpRole: asked?.peerBgpRole ?? spec.sessionDefaults?.peerBgpRole,
          localInsertAsn: asked?.localInsertAsn ?? true,
          peerInsertAsn: asked?.peerInsertAsn ?? true,
          localMonitoringSession: asked?.localMonitoringSession ?? false,
          peerMonitoringSession: asked?.peerMonitoringSession ?? false,
          sessionSecretRef: asked?.sessionSecretRef ?? spec.sessionDefaults?.sessionSecretRef,
          peerType: entry.location.startsWith('pdb:fac:') ? 'private' : 'public',
          location: {
            id: entry.location,
            type: entry.location.startsWith('pdb:fac:') ? 'private' : 'public',
          },
          peerApiUrl: spec.peerApiUrl,
          credentials: spec.credentials,
        },
        {
          labels: sessionLabels(
            request.metadata.name,
            'outbound',
            spec.peerAsn,
            entry.sessionId,
            request.status?.requestId,
          ),
          ownerReferences: [controllerReference(request)],
          finalizers: [SESSION_FINALIZER],
        },
      );
      try {
        await this.deps.sessions.create(session);
      } catch (error) {
        if (!(isConflict(error) && error.alreadyExists)) throw error;
      }
    }
  }

  // ---- inbound -------------------------------------------------------------------------------------------

  private async reconcileInbound(
    request: PeeringRequest,
    spec: PeeringRequestSpec,
  ): Promise<ReconcileResult> {
    const namespace = request.metadata.namespace;
    const sessions = this.deps.sessionsOf(namespace, request.metadata.name);
    // Our API server writes the request, then its sessions, then this status; a crash in between is repaired
    // here. Once the status says so, a missing session was removed on purpose (DELETE) and stays gone.
    if (request.status?.requestId === undefined && spec.inbound) {
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
    if (spec.approved) {
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
    return this.summarize(request, status, true, [], request.metadata.generation ?? 0);
  }

  // ---- both ----------------------------------------------------------------------------------------------

  private async summarize(
    request: PeeringRequest,
    status: PeeringRequestStatus,
    inbound: boolean,
    extra: (DesiredCondition | undefined)[],
    generation: number,
  ): Promise<ReconcileResult> {
    const byName = new Map(
      this.deps
        .sessionsOf(request.metadata.namespace, request.metadata.name)
        .map((s) => [s.metadata.name, s]),
    );
    const accepted = (status.accepted ?? []).map((a) => {
      const state = byName.get(a.name)?.status?.state ?? a.state;
      return state ? { ...a, state } : a;
    });
    const next: PeeringRequestStatus = { ...status, accepted };
    const states = accepted.map((a) => a.state);
    next.phase = requestPhase(next, states, inbound);
    next.sessionCounts = {
      accepted: accepted.length,
      rejected: next.rejected?.length ?? 0,
      established: states.filter((s) => s === 'established').length,
    };
    const readiness = accepted.map((a) => {
      const session = byName.get(a.name);
      const ready = isConditionTrue(session?.status?.conditions, 'Ready');
      const reason = session?.status?.conditions?.find((c) => c.type === 'Ready')?.reason ?? 'NotReconciled';
      return { name: a.name, ready, reason };
    });
    next.observedGeneration = generation;
    const conditions = [
      ...requestConditions(next, readiness),
      ...extra.filter((c): c is DesiredCondition => c !== undefined),
    ];
    await this.writeStatus(request, next, conditions);
    return {};
  }

  private async finalize(request: PeeringRequest): Promise<ReconcileResult> {
    if (!hasFinalizer(request.metadata, REQUEST_FINALIZER)) return {};
    const sessions = this.deps.sessionsOf(request.metadata.namespace, request.metadata.name);
    for (const session of sessions) {
      if (!isDeleting(session.metadata))
        await this.deps.sessions.delete(session.metadata.namespace, session.metadata.name);
    }
    if (sessions.length > 0) {
      // Each session de-peers through its own finalizer; the session informer brings us back when they go.
      return { requeueAfterMs: 5_000 };
    }
    await releaseFinalizer(this.deps.requests, request, REQUEST_FINALIZER);
    this.deps.events.record(request, 'Normal', 'Removed', 'every session of the request is de-peered');
    return {};
  }

  private async peerApi(request: PeeringRequest, spec: PeeringRequestSpec): Promise<PeerApi> {
    return connectOutbound(this.deps.peers, this.deps.tokens, request.metadata.namespace, spec, 'request');
  }

  private async writeStatus(
    request: PeeringRequest,
    status: PeeringRequestStatus,
    desired: DesiredCondition[],
  ): Promise<void> {
    const generation = request.metadata.generation;
    const update = setConditions(request.status?.conditions, desired, generation, new Date(this.clock.now()));
    const next: PeeringRequestStatus = { ...status, conditions: update.conditions };
    if (sameStatus(request.status ?? {}, next)) return;
    await this.deps.requests.updateStatus({ ...request, status: next });
    recordTransitions(this.deps.events, request, update.transitions, ['Ready', 'Synced', 'Accepted']);
  }
}

/** The labels of a PeeringSession: how selectors find a request's sessions and the API server its rows. */
export function sessionLabels(
  requestName: string,
  direction: 'outbound' | 'inbound',
  peerAsn: number,
  sessionId: string,
  requestId: string | undefined,
): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL.request]: requestName.slice(0, 63),
    [LABEL.direction]: direction,
    [LABEL.peerAsn]: String(peerAsn),
    [LABEL.sessionId]: sessionId,
  };
  if (requestId !== undefined && /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(requestId)) {
    labels[LABEL.requestId] = requestId;
  }
  return labels;
}

/** The PeeringSession of one session of an inbound request (our reading: local = us). */
export function inboundSession(
  request: PeeringRequest,
  spec: PeeringRequestSpec,
  wanted: NonNullable<PeeringRequestSpec['sessions']>[number],
): PeeringSession | undefined {
  if (!wanted.sessionId || !spec.inbound) return undefined;
  const type = wanted.location.startsWith('pdb:fac:') ? 'private' : 'public';
  const location = { id: wanted.location, type } as const;
  const localAsn = wanted.localAsn ?? spec.localAsn;
  const peerAsn = wanted.peerAsn ?? spec.peerAsn;
  const name = sessionName({
    peerAsn,
    location,
    localIp: wanted.localIp,
    peerIp: wanted.peerIp,
  });
  return peeringSession(
    request.metadata.namespace,
    name,
    {
      direction: 'Inbound',
      sessionId: wanted.sessionId,
      requestId: spec.inbound.requestId,
      localAsn,
      localIp: wanted.localIp,
      peerAsn,
      peerIp: wanted.peerIp,
      localBgpRole: wanted.localBgpRole,
      peerBgpRole: wanted.peerBgpRole,
      localInsertAsn: wanted.localInsertAsn,
      peerInsertAsn: wanted.peerInsertAsn,
      localMonitoringSession: wanted.localMonitoringSession,
      peerMonitoringSession: wanted.peerMonitoringSession,
      sessionSecretRef: wanted.sessionSecretRef,
      peerType: wanted.peerType ?? type,
      location,
    },
    {
      labels: sessionLabels(
        request.metadata.name,
        'inbound',
        peerAsn,
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

function acceptedEntry(peerAsn: number, session: RemoteSession): AcceptedSession {
  const location = session.location.id;
  return {
    name: sessionName({
      peerAsn,
      location: session.location,
      localIp: session.localIp,
      peerIp: session.peerIp,
    }),
    sessionId: session.sessionId,
    location,
    localIp: session.localIp,
    peerIp: session.peerIp,
    ...(typeof session.status === 'string' &&
    ['pending', 'approved', 'rejected', 'configured', 'established', 'down', 'unestablished'].includes(
      session.status,
    )
      ? { state: session.status as AcceptedSession['state'] }
      : {}),
  };
}

/** A refusal of the whole POST as per-session errors (the peer's, or its message for every session). */
function refusalErrors(error: PeeringApiError, count: number): RemoteFieldError[] {
  if (error.remoteErrors.length > 0) return error.remoteErrors;
  return Array.from({ length: count }, (_, i) => ({
    name: `sessions[${i}]`,
    field: `sessions[${i}]`,
    code: error.code,
    errors: [error.message],
  }));
}
