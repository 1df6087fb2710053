import type { RemoteSession } from '../../client/answers.js';
import type { RequestSessionsResult } from '../../client/client.js';
import { PeeringApiError, type RemoteFieldError } from '../../client/errors.js';
import type { Discovery, DiscoveryQuery } from '../../discovery/common-locations.js';
import { PeeringError } from '../../domain/errors.js';
import {
  ClientRequestIdSchema,
  isSessionStatus,
  naturalKey,
  type SessionTerms,
} from '../../domain/session.js';
import { isConflict } from '../backing/errors.js';
import type { ResourceCollection, SecretReader } from '../backing/resource-collection.js';
import { LABEL, SESSION_FINALIZER } from '../resources/api-group.js';
import type { DesiredCondition } from '../resources/conditions.js';
import { controllerReference } from '../resources/object.js';
import type {
  AcceptedSession,
  PeeringRequest,
  PeeringRequestSpec,
  PeeringRequestStatus,
  RequestIntent,
} from '../resources/peering-request.js';
import { peeringSession, sessionSpec, type PeeringSession } from '../resources/peering-session.js';
import { connectOutbound, type PeerTokenSources } from '../peer/credentials.js';
import type { PeerApi, PeerApiConnector } from '../peer/peer-api.js';
import type { Clock } from '../../time/clock.js';
import type { EventRecorder } from '../runtime/events.js';
import { sessionLabels, sessionName } from './naming.js';
import { rejectionsOf, requestPhase, sessionsToRemove, sessionsToRequest } from './request-decisions.js';
import { discoveredSession, keyRecord, recordKey, requestedTerms, termsOfRecord } from './request-terms.js';
import { asFailure } from './status.js';

/** Points where a test may stop the operator as a crash would (issue: kill it at each step). */
export interface CrashPoints {
  /** The intent is recorded, the POST not yet sent. */
  afterIntent?(): void | Promise<void>;
  /** The peer answered, the answer is not recorded yet. */
  afterPost?(): void | Promise<void>;
  /** The answer is recorded, the PeeringSessions not yet created. */
  afterRecord?(): void | Promise<void>;
}

export interface OutboundRequestDeps {
  requests: ResourceCollection<PeeringRequest>;
  sessions: ResourceCollection<PeeringSession>;
  /** The sessions of a request (informer cache, by the request label). */
  sessionsOf: (namespace: string, requestName: string) => PeeringSession[];
  secrets: SecretReader;
  /** Tokens for peers' APIs from the resources' credentials. */
  tokens: PeerTokenSources;
  peers: PeerApiConnector;
  events: EventRecorder;
  /** Our own Peering API's public URL, sent as `return_url` (absent when this operator serves no API). */
  returnUrl?: string | undefined;
  /** Finds candidate sessions from PeeringDB for requests without explicit sessions. */
  discover?: ((query: DiscoveryQuery) => Promise<Discovery>) | undefined;
  crashPoints?: CrashPoints | undefined;
  clock: Clock;
  newId: () => string;
}

/** What one outbound pass leaves for the request reconciler to summarize. */
export interface RequestPass {
  request: PeeringRequest;
  status: PeeringRequestStatus;
  conditions: DesiredCondition[];
  /** Look again after this long, with nothing else happening. */
  requeueAfterMs?: number | undefined;
  /** The pass failed (a Secret, the peer): shown in the status, then rethrown so the key is retried with backoff. */
  error?: unknown;
  /** Accepted sessions whose PeeringSession another request owns: its name → the owning request. */
  duplicates?: ReadonlyMap<string, string> | undefined;
  /** Inbound: the peer removed every session; the request says so until it is removed. */
  dePeered?: { reason: string; message: string } | undefined;
  /** The request was removed in this pass: nothing to write. */
  gone?: boolean | undefined;
}

type Answer = Pick<RequestSessionsResult, 'requestId' | 'sessions' | 'errors'>;

const MAX_BATCH = 100;

/**
 * The outbound half of the PeeringRequest reconciler: resolves the wanted sessions (explicit, or discovered
 * from PeeringDB and the peer's locations), and asks the peer for those not yet answered, behind a crash-safe
 * intent: the intent (a fresh id, sent as the client `request_id`) is written to the status with a
 * resourceVersion precondition before the POST, and the answer replaces it after. A restart that finds an
 * intent asks the peer what it recorded under that id, and posts again only when the peer has nothing — so one
 * intent never creates anything twice. Accepted sessions become PeeringSessions owned by the request; rejected
 * ones are kept with their reasons.
 */
export class OutboundRequests {
  constructor(private readonly deps: OutboundRequestDeps) {}

  async reconcile(request: PeeringRequest, spec: PeeringRequestSpec): Promise<RequestPass> {
    let status: PeeringRequestStatus = { ...request.status };
    if (spec.suspend === true) {
      const held = synced(
        'False',
        'Suspended',
        'spec.suspend is true: nothing is sent to the peer until it is false',
      );
      return { request, status, conditions: [held] };
    }
    try {
      const api = await connectOutbound(
        this.deps.peers,
        this.deps.tokens,
        request.metadata.namespace,
        spec,
        'request',
      );
      if (status.intent) ({ request, status } = await this.recover(request, spec, status.intent, api));
      ({ request, status } = await this.askForWanted(request, spec, status, api));
    } catch (error) {
      if (isConflict(error)) throw error;
      const failure = asFailure(error);
      return { request, status, conditions: [synced('False', failure.reason, failure.message)], error };
    }
    const duplicates = await this.ensureSessions(request, spec, status.accepted ?? []);
    return { request, status, conditions: [synced('True', 'Synced', 'the peer answered')], duplicates };
  }

  /** An intent left by a crash (or an uncertain failure): what did the peer record under its id? */
  private async recover(
    request: PeeringRequest,
    spec: PeeringRequestSpec,
    intent: RequestIntent,
    api: PeerApi,
  ): Promise<{ request: PeeringRequest; status: PeeringRequestStatus }> {
    const recorded = await api.sessionsOfRequest(spec.localAsn, intent.id);
    if (recorded.length > 0) {
      return this.recordAnswer(request, intent, recoveredAnswer(intent, recorded, spec.peerAsn));
    }
    const wanted = new Map((await this.resolve(request, spec, api)).map((t) => [naturalKey(t), t]));
    const batch = intent.sessions
      .map((k) => wanted.get(recordKey(spec.peerAsn, k)))
      .filter((t): t is SessionTerms => t !== undefined);
    if (batch.length === 0)
      return this.recordAnswer(request, intent, { requestId: undefined, sessions: [], errors: [] });
    return this.post(request, intent, batch, api, spec);
  }

  /** What the spec wants now, against what has been answered: de-peer what it dropped, ask for what is new. */
  private async askForWanted(
    request: PeeringRequest,
    spec: PeeringRequestSpec,
    status: PeeringRequestStatus,
    api: PeerApi,
  ): Promise<{ request: PeeringRequest; status: PeeringRequestStatus }> {
    const generation = request.metadata.generation ?? 0;
    // Asked again while the peer has not answered this generation in full, or answered nothing to have.
    const unresolved =
      status.answeredGeneration !== generation || status.phase === 'Pending' || status.phase === undefined;
    if (!unresolved) return { request, status };
    const wanted = await this.resolve(request, spec, api);
    for (const gone of sessionsToRemove(wanted, status, spec.peerAsn)) {
      await this.deps.sessions.delete(request.metadata.namespace, gone.name);
      status = { ...status, accepted: (status.accepted ?? []).filter((a) => a.name !== gone.name) };
    }
    const wantedKeys = new Set(wanted.map(naturalKey));
    status = {
      ...status,
      rejected: (status.rejected ?? []).filter((r) => wantedKeys.has(recordKey(spec.peerAsn, r))),
    };
    const pending = sessionsToRequest(wanted, status, generation, spec.peerAsn);
    while (pending.length > 0) {
      const batch = pending.splice(0, MAX_BATCH);
      const intent: RequestIntent = {
        id: this.deps.newId(),
        generation,
        startedAt: new Date(this.deps.clock.now()).toISOString(),
        sessions: batch.map(keyRecord),
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
    return { request, status: { ...status, answeredGeneration: generation } };
  }

  /** One POST for one intent, and its answer on record. */
  private async post(
    request: PeeringRequest,
    intent: RequestIntent,
    batch: SessionTerms[],
    api: PeerApi,
    spec: PeeringRequestSpec,
  ): Promise<{ request: PeeringRequest; status: PeeringRequestStatus }> {
    let answer: Answer;
    try {
      answer = await api.requestSessions(batch, intent.id, this.deps.returnUrl);
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
    const refused = answer.errors.length > 0;
    this.deps.events.record(
      recorded.request,
      refused ? 'Warning' : 'Normal',
      !refused ? 'Requested' : answer.sessions.length === 0 ? 'Rejected' : 'PartiallyRejected',
      `AS${spec.peerAsn} accepted ${answer.sessions.length} of ${intent.sessions.length} session(s)` +
        (answer.requestId ? ` (request ${answer.requestId})` : '') +
        (refused ? `; first refusal: ${answer.errors[0]?.errors.join('; ')}` : ''),
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
    answer: Answer,
  ): Promise<{ request: PeeringRequest; status: PeeringRequestStatus }> {
    const peerAsn = request.spec.peerAsn;
    const batchKeys = new Set(intent.sessions.map((k) => recordKey(peerAsn, k)));
    const accepted = answer.sessions
      .map((session) => acceptedEntry(peerAsn, session))
      .filter((entry) => batchKeys.size === 0 || batchKeys.has(recordKey(peerAsn, entry)));
    const rejected = rejectionsOf(intent.sessions, answer.errors, intent.generation);
    const replaced = new Set([...accepted, ...rejected].map((r) => recordKey(peerAsn, r)));
    let current = request;
    for (let attempt = 0; ; attempt++) {
      const status: PeeringRequestStatus = { ...current.status };
      if (status.intent?.id !== intent.id) return { request: current, status };
      const kept = <T extends Partial<AcceptedSession>>(list: T[] | undefined) =>
        (list ?? []).filter((r) => !replaced.has(recordKey(peerAsn, r)));
      status.accepted = [...kept(status.accepted), ...accepted];
      status.rejected = [...kept(status.rejected), ...rejected];
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

  /** The sessions the spec wants, with their secrets read: explicit, or discovered from PeeringDB. */
  private async resolve(
    request: PeeringRequest,
    spec: PeeringRequestSpec,
    api: PeerApi,
  ): Promise<SessionTerms[]> {
    const namespace = request.metadata.namespace;
    const withSecret = async (terms: SessionTerms): Promise<SessionTerms> => {
      const ref = terms.sessionSecretRef;
      return ref
        ? { ...terms, sessionSecret: await this.deps.secrets.read(namespace, ref.name, ref.key) }
        : terms;
    };
    if (spec.sessions !== undefined) {
      return Promise.all(spec.sessions.map((s) => withSecret(requestedTerms(spec, s))));
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
    return Promise.all(
      found.sessions.map((c) =>
        withSecret(
          requestedTerms(
            spec,
            discoveredSession(spec, { location: c.location.id, localIp: c.localIp, peerIp: c.peerIp }),
          ),
        ),
      ),
    );
  }

  /**
   * A PeeringSession for every accepted session (creating one twice fails harmlessly). A session that exists
   * under another request (the same session asked for twice: the peer answers both with one session id) stays
   * that request's; it is reported so the condition says so.
   */
  private async ensureSessions(
    request: PeeringRequest,
    spec: PeeringRequestSpec,
    accepted: AcceptedSession[],
  ): Promise<Map<string, string>> {
    const { namespace, name } = request.metadata;
    const existing = new Set(this.deps.sessionsOf(namespace, name).map((s) => s.metadata.name));
    const duplicates = new Map<string, string>();
    const requestId = request.status?.requestId;
    for (const entry of accepted) {
      if (existing.has(entry.name)) continue;
      const terms = termsOfRecord(spec, entry);
      const session = peeringSession(
        namespace,
        entry.name,
        sessionSpec(terms, {
          direction: 'Outbound',
          sessionId: entry.sessionId,
          requestId,
          peerApiUrl: spec.peerApiUrl,
          credentials: spec.credentials,
        }),
        {
          labels: sessionLabels(name, 'outbound', spec.peerAsn, entry.sessionId, requestId),
          ownerReferences: [controllerReference(request)],
          finalizers: [SESSION_FINALIZER],
        },
      );
      try {
        await this.deps.sessions.create(session);
      } catch (error) {
        if (!(isConflict(error) && error.alreadyExists)) throw error;
        const owner = (await this.deps.sessions.get(namespace, entry.name))?.metadata.labels?.[LABEL.request];
        if (owner !== undefined && owner !== name) duplicates.set(entry.name, owner);
      }
    }
    return duplicates;
  }
}

/** The request's `Synced` condition: whether the peer has answered what the spec asks for. */
function synced(status: 'True' | 'False', reason: string, message: string): DesiredCondition {
  return { type: 'Synced', status, reason, message };
}

/** After a crash, the peer's record of the intent's request id is the answer (its reasons for refusals are not). */
function recoveredAnswer(intent: RequestIntent, recorded: RemoteSession[], peerAsn: number): Answer {
  const found = new Set(recorded.map((s) => recordKey(peerAsn, keyRecord(s))));
  const errors: RemoteFieldError[] = intent.sessions.flatMap((key, index) =>
    found.has(recordKey(peerAsn, key))
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

function acceptedEntry(peerAsn: number, session: RemoteSession): AcceptedSession {
  return {
    name: sessionName({ ...session, peerAsn }),
    sessionId: session.sessionId,
    location: session.location.id,
    localIp: session.localIp,
    peerIp: session.peerIp,
    ...(isSessionStatus(session.status) ? { state: session.status } : {}),
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
