import type { RemoteSession } from '../../client/answers.js';
import { readStatus } from '../../client/answers.js';
import { PeeringError } from '../../domain/errors.js';
import {
  SESSION_STATUSES,
  addressFamily,
  naturalKey,
  sessionTerms,
  type SessionStatus,
  type SessionTerms,
} from '../../domain/session.js';
import type { PeeringDb } from '../../peeringdb/peeringdb.js';
import {
  desiredSession,
  maxPrefixesFor,
  statusFromObserved,
  type ApplyResult,
  type DesiredSession,
  type ObservedSession,
} from '../../router/driver.js';
import { ANNOTATION, SESSION_FINALIZER } from '../resources/api-group.js';
import { setConditions } from '../resources/conditions.js';
import { firstSpecIssue, hasFinalizer, isDeleting } from '../resources/object.js';
import type { Router } from '../resources/router.js';
import { assignRouter, routerConnection } from './router-assignment.js';
import {
  PeeringSessionSpecSchema,
  type BgpObservation,
  type PeeringSession,
  type PeeringSessionSpec,
  type PeeringSessionStatus,
} from '../resources/peering-session.js';
import { connectOutbound, type PeerTokenSources } from '../peer/credentials.js';
import type { PeerApi, PeerApiConnector } from '../peer/peer-api.js';
import type { SessionRouter } from '../../router/session-router.js';
import { systemClock, type Clock } from '../../time/clock.js';
import type { ReconcileResult } from '../runtime/controller.js';
import type { EventRecorder } from '../runtime/events.js';
import { silentLogger, type Logger } from '../runtime/logger.js';
import type { ResourceCollection, SecretReader } from '../backing/resource-collection.js';
import {
  FINAL_STATES,
  ROUTED_STATES,
  bgpStatus,
  firstPollDue,
  nextPollMs,
  nextSessionState,
  requeueAfterMs,
  sessionConditions,
  type PollSchedule,
  type RouterView,
  type SyncView,
} from './session-decisions.js';
import { windowEnds } from '../../domain/time-window.js';
import { ensureFinalizer, releaseFinalizer } from './finalizers.js';
import { asFailure, recordTransitions, sameStatus } from './status.js';

/** Router settings the resources do not carry: filters and limits are this network's policy. */
export type RouterExtras = Omit<
  DesiredSession,
  'key' | 'localAsn' | 'localIp' | 'peerAsn' | 'peerIp' | 'localRole' | 'peerRole' | 'secret'
>;

export interface SessionReconcilerOptions {
  /** Agreed sessions not established within this window become `unestablished` and leave the router. */
  timeWindowMs: number;
  poll?: PollSchedule;
  /** How often to look at the router while BGP is not established, and once it is. Defaults 15 s and 60 s. */
  observeMs?: { waiting: number; established: number };
  router?: RouterExtras;
}

export interface SessionReconcilerDeps {
  sessions: ResourceCollection<PeeringSession>;
  /** The informer's cache: reconciles read from it and write through `sessions`. */
  cached: (key: string) => PeeringSession | undefined;
  secrets: SecretReader;
  /** Tokens for peers' APIs from the resources' credentials. */
  tokens: PeerTokenSources;
  peers: PeerApiConnector;
  router: SessionRouter;
  /**
   * Routers with agents (Kubernetes): sessions are assigned to a Router by their local address, and the Router's
   * agent configures them and reports back into their status. Absent: `router` configures them in-process.
   */
  fleet?: RouterFleet | undefined;
  events: EventRecorder;
  /** For the peer's recommended max-prefix (PeeringDB `info_prefixes4/6`), applied when known. */
  peeringDb?: PeeringDb | undefined;
  clock?: Clock;
  logger?: Logger;
  /** Spreads first polls after a restart (tests fix it). */
  random?: () => number;
}

/** The Routers sessions are assigned to, when agents drive the routers (docs/operator.md, "Routers and agents"). */
export interface RouterFleet {
  /** The Routers of a namespace, from the operator's cache. */
  routers(namespace: string): readonly Router[];
  /** A Router whose agent's heartbeat is older than this is disconnected. */
  agentTimeoutMs: number;
}

/** Escape hatch for a peer that is gone for good: delete the resource without a remote `DELETE`. */
export const SKIP_REMOTE_DELETE = 'peering.autopeer.dev/skip-remote-delete';

/**
 * Reconciles one PeeringSession: follows the peer's status (outbound), puts agreed sessions on the router and
 * takes the others off, observes BGP, enforces the time window, and on deletion de-peers (remote `DELETE` for
 * outbound, router clean-up for both) before the finalizer goes.
 *
 * @example
 * const reconciler = new SessionReconciler(deps, { timeWindowMs: 7 * 86_400_000 });
 * const controller = new Controller({ name: 'peeringsession', reconcile: (key) => reconciler.reconcile(key) });
 */
export class SessionReconciler {
  private readonly clock: Clock;
  private readonly logger: Logger;
  /** When each outbound session is next due a poll of the peer (in memory; see {@link firstPollDue}). */
  private readonly pollDue = new Map<string, number>();

  constructor(
    private readonly deps: SessionReconcilerDeps,
    private readonly options: SessionReconcilerOptions,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.logger = (deps.logger ?? silentLogger).child({ controller: 'peeringsession' });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const cached = this.deps.cached(key);
    if (!cached) {
      this.pollDue.delete(key);
      return {};
    }
    if (isDeleting(cached.metadata)) return this.finalize(key, cached);
    const session = await ensureFinalizer(this.deps.sessions, cached, SESSION_FINALIZER);
    const parsed = PeeringSessionSpecSchema.safeParse(session.spec);
    if (!parsed.success) {
      const message = firstSpecIssue(parsed.error);
      await this.writeStatus(session, { ...session.status }, [
        { type: 'Accepted', status: 'False', reason: 'InvalidSpec', message },
        { type: 'Ready', status: 'False', reason: 'InvalidSpec', message },
      ]);
      return {};
    }
    const spec = parsed.data;
    const now = this.clock.now();
    const status: PeeringSessionStatus = { ...session.status };

    // 1. The session's status: the peer's word (outbound, polled when due) or ours (inbound); the time window.
    let sync =
      spec.direction === 'Outbound' ? await this.pollPeer(key, session, status, now) : { ok: true as const };
    const initial = session.metadata.annotations?.[ANNOTATION.initialState];
    const step = nextSessionState(status, spec.direction, initial, now, this.options.timeWindowMs);
    Object.assign(status, step.status);
    if (step.expired) {
      this.deps.events.record(
        session,
        'Warning',
        'Unestablished',
        'BGP did not come up within the time window; removed from the router',
      );
    }

    // 2. The router: configured and observed while agreed, removed otherwise.
    const router = await this.routeSession(session, spec, status);
    if (router.kind === 'refused') sync = { ok: false, reason: router.reason, message: router.message };

    // 3. Conditions and status.
    await this.writeStatus(
      session,
      status,
      sessionConditions(spec.direction, status, router, sync, session.status?.conditions),
    );
    if (router.kind === 'refused') throw new PeeringError('ROUTER_REJECTED', router.message);

    // 4. When to look again.
    const requeue = requeueAfterMs({
      now,
      pollDue: this.pollDue.get(key),
      router,
      observeMs: this.options.observeMs,
      windowEnd: windowEnds(status.state, status.acceptedAt, this.options.timeWindowMs),
    });
    return requeue === undefined ? {} : { requeueAfterMs: requeue };
  }

  /** Asks the peer for an outbound session's status when a poll is due; records when the next one is. */
  private async pollPeer(
    key: string,
    session: PeeringSession,
    status: PeeringSessionStatus,
    now: number,
  ): Promise<SyncView> {
    const fresh = status.observedGeneration === session.metadata.generation && status.state !== undefined;
    const final = status.state !== undefined && FINAL_STATES.has(status.state);
    if (!this.pollDue.has(key) && fresh && !final && (status.syncFailures ?? 0) === 0) {
      // Known from before this process (a restart, a new leader): its first poll is spread, not at once.
      const random = (this.deps.random ?? Math.random)();
      const first = firstPollDue(status.state, status.acceptedAt, now, random, this.options.poll);
      if (first !== undefined) this.pollDue.set(key, first);
    }
    if (final || (fresh && now < (this.pollDue.get(key) ?? 0))) {
      return (status.syncFailures ?? 0) > 0 ? previousSync(session.status) : { ok: true };
    }
    let sync: SyncView = { ok: true };
    try {
      const remote = await (
        await this.peerApi(session)
      ).getSession(session.spec.localAsn, session.spec.sessionId);
      this.adoptRemote(status, remote);
      status.syncFailures = 0;
      const stale = !status.lastSyncTime || now - Date.parse(status.lastSyncTime) > 600_000;
      if (stale || session.status?.state !== status.state) status.lastSyncTime = new Date(now).toISOString();
    } catch (error) {
      const failure = asFailure(error);
      sync = { ok: false, ...failure };
      status.syncFailures = (status.syncFailures ?? 0) + 1;
      this.logger.warn('polling the peer failed', { key, reason: failure.reason, error });
    }
    const wait = nextPollMs(
      status.state,
      status.acceptedAt,
      status.syncFailures ?? 0,
      now,
      this.options.poll,
    );
    if (wait === undefined) this.pollDue.delete(key);
    else this.pollDue.set(key, now + wait);
    return sync;
  }

  /** Puts an agreed session on our router and reads its BGP state back; takes any other off. */
  private async routeSession(
    session: PeeringSession,
    spec: PeeringSessionSpec,
    status: PeeringSessionStatus,
  ): Promise<RouterView> {
    if (this.deps.fleet) return this.routeByAgent(this.deps.fleet, session, spec, status);
    const terms = sessionTerms(spec);
    const routerKey = naturalKey(terms);
    if (status.state !== undefined && ROUTED_STATES.has(status.state)) {
      const router = await this.configure(session, routerKey, terms);
      if (router.kind === 'configured') {
        status.bgp = router.bgp;
        // Inbound, our status is what our router says (docs/api.md §5); outbound it is the peer's word.
        if (spec.direction === 'Inbound') status.state = statusFromObserved(router.observed, status.state);
      }
      return router;
    }
    if (session.status?.bgp !== undefined || isConfigured(session.status)) {
      const outcome = await this.deps.router.remove(routerKey);
      if (outcome.outcome === 'removed') {
        this.deps.events.record(
          session,
          'Normal',
          'Deconfigured',
          `removed from our router (the session is ${status.state})`,
        );
      }
    }
    delete status.bgp;
    return { kind: 'removed' };
  }

  /**
   * The operator decides, the agent acts: an agreed session is assigned to the one Router holding its local
   * address (`status.router`), and what that Router's agent reports (`status.routerReport`) becomes the
   * session's BGP state. A disconnected agent makes the state `unknown`, never a stale `established`. Any
   * other session loses its assignment, and the agent takes it off its router.
   */
  private async routeByAgent(
    fleet: RouterFleet,
    session: PeeringSession,
    spec: PeeringSessionSpec,
    status: PeeringSessionStatus,
  ): Promise<RouterView> {
    if (status.state === undefined || !ROUTED_STATES.has(status.state)) {
      delete status.router;
      delete status.bgp;
      return { kind: 'removed' };
    }
    const namespace = session.metadata.namespace ?? '';
    const assignment = assignRouter(spec.localIp, spec.location.id, fleet.routers(namespace));
    if (assignment.kind !== 'assigned') {
      delete status.router;
      delete status.bgp;
      return { kind: 'refused', reason: assignment.reason, message: assignment.message };
    }
    const name = assignment.router.metadata.name;
    const maxPrefixes = await this.peerMaxPrefixes(spec);
    status.router = { name, ...(maxPrefixes === undefined ? {} : { maxPrefixes }) };
    const connection = routerConnection(assignment.router, this.clock.now(), fleet.agentTimeoutMs);
    if (!connection.connected) {
      status.bgp = { state: 'unknown', lastError: connection.message };
      return { kind: 'waiting', reason: connection.reason, message: connection.message, bgp: status.bgp };
    }
    const report = status.routerReport;
    const generation = session.metadata.generation ?? 0;
    if (report === undefined || report.router !== name || report.observedGeneration < generation) {
      const message = `waiting for the agent of Router ${name} to configure generation ${generation}`;
      status.bgp = { state: 'unknown', lastError: message };
      return { kind: 'waiting', reason: 'WaitingForAgent', message, bgp: status.bgp };
    }
    if (!report.configured) {
      delete status.bgp;
      return {
        kind: 'refused',
        reason: report.reason ?? 'RouterRejected',
        message: `Router ${name}: ${report.message ?? 'the agent could not configure the session'}`,
      };
    }
    status.bgp = report.bgp ?? { state: 'unknown' };
    const observed = observedFromReport(status.bgp);
    if (spec.direction === 'Inbound') status.state = statusFromObserved(observed, status.state);
    return { kind: 'configured', bgp: status.bgp, observed };
  }

  private async finalize(key: string, cached: PeeringSession): Promise<ReconcileResult> {
    this.pollDue.delete(key);
    if (!hasFinalizer(cached.metadata, SESSION_FINALIZER)) return {};
    const spec = cached.spec;
    const state = cached.status?.state;
    const remoteKnowsIt = state === undefined || !FINAL_STATES.has(state);
    const remoteDelete =
      spec.direction === 'Outbound' &&
      remoteKnowsIt &&
      cached.metadata.annotations?.[SKIP_REMOTE_DELETE] !== 'true';
    // What a deleted object shows while it goes: never its last `Established / True`.
    const session = await this.writeStatus(cached, { ...cached.status }, [
      {
        type: 'Ready',
        status: 'False',
        reason: 'Deleting',
        message: remoteDelete
          ? `de-peering: removing the session at AS${spec.peerAsn} and from our router`
          : 'de-peering: removing the session from our router',
      },
    ]);
    if (remoteDelete) {
      try {
        await (await this.peerApi(session)).deleteSession(spec.sessionId);
        this.deps.events.record(
          session,
          'Normal',
          'DePeered',
          `the peer AS${spec.peerAsn} removed session ${spec.sessionId}`,
        );
      } catch (error) {
        const failure = asFailure(error);
        await this.writeStatus(session, { ...session.status }, [
          {
            type: 'Synced',
            status: 'False',
            reason: failure.reason,
            message: `removing the session at the peer: ${failure.message}`,
          },
        ]).catch(() => undefined);
        throw error;
      }
    }
    // With agents, the Router's agent takes a session off its router when the object goes.
    if (!this.deps.fleet) await this.deps.router.remove(naturalKey(spec));
    await releaseFinalizer(this.deps.sessions, session, SESSION_FINALIZER);
    this.logger.info('de-peered', { key, sessionId: spec.sessionId, direction: spec.direction });
    return {};
  }

  private async configure(session: PeeringSession, key: string, terms: SessionTerms): Promise<RouterView> {
    // Configured for this generation and still on the router: only observe.
    // An unreachable router (BIRD restarting) is a refusal for this round, not a failed reconcile: the peer's
    // status and the conditions must still be written, or the resource freezes at its last state.
    // A session not yet configured for this generation needs no look first (10,000 new sessions would each
    // wait for an observation of the whole router).
    const generationSeen = session.status?.observedGeneration === session.metadata.generation;
    let observedNow: ObservedSession | undefined;
    try {
      if (generationSeen && isConfigured(session.status)) observedNow = await this.deps.router.observed(key);
    } catch (error) {
      return { kind: 'refused', ...asFailure(error) };
    }
    if (!observedNow) {
      let secret: string | undefined;
      try {
        secret = await this.secretOf(session, terms.sessionSecretRef);
      } catch (error) {
        return { kind: 'refused', ...asFailure(error) };
      }
      const desired = this.desiredOf(session, terms, secret, await this.peerMaxPrefixes(terms));
      try {
        const outcome = await this.deps.router.configure(desired);
        if (outcome.outcome === 'rejected') {
          return { kind: 'refused', reason: outcome.error.reason, message: outcome.error.message };
        }
      } catch (error) {
        const failure = asFailure(error);
        return { kind: 'refused', reason: failure.reason, message: failure.message };
      }
    }
    let observed = observedNow;
    try {
      observed ??= await this.deps.router.observed(key);
    } catch (error) {
      return { kind: 'refused', ...asFailure(error) };
    }
    return { kind: 'configured', bgp: observed ? bgpStatus(observed) : undefined, observed };
  }

  /**
   * Makes the router's managed sessions exactly those of `sessions` that belong on it (ADR 0004 §5): what a crash,
   * or an object deleted while the operator was down, left on the router goes; the others are given as a
   * reconcile would configure them, so an unchanged session is not touched. Throws, changing nothing, when a
   * session's desired form cannot be known (its Secret unreadable): leaving it out would take it off the router.
   *
   * @example
   * await reconciler.resyncRouter(sessionInformer.list()); // at start-up and on becoming leader
   */
  async resyncRouter(sessions: readonly PeeringSession[]): Promise<ApplyResult> {
    // Each router agent resyncs its own router when it starts.
    if (this.deps.fleet) return { sessions: [], reloaded: false };
    const desired: DesiredSession[] = [];
    for (const session of sessions) {
      const state = session.status?.state;
      if (state === undefined || !ROUTED_STATES.has(state)) continue;
      // A spec the CRD let through but the reconciler refuses is never configured: nothing of it to keep.
      const parsed = PeeringSessionSpecSchema.safeParse(session.spec);
      if (!parsed.success) continue;
      const terms = sessionTerms(parsed.data);
      const secret = await this.secretOf(session, terms.sessionSecretRef);
      // PeeringDB unreachable is a failure here, not a missing limit: a limit left out would change the session.
      const maxPrefixes =
        this.options.router?.maxPrefixes ??
        maxPrefixesFor(await this.deps.peeringDb?.network(terms.peerAsn), addressFamily(terms.peerIp));
      desired.push(this.desiredOf(session, terms, secret, maxPrefixes));
    }
    return this.deps.router.sync(desired);
  }

  private async secretOf(
    session: PeeringSession,
    secretRef: { name: string; key: string } | undefined,
  ): Promise<string | undefined> {
    if (!secretRef) return undefined;
    return this.deps.secrets.read(session.metadata.namespace, secretRef.name, secretRef.key);
  }

  /** The session as our router should run it: the agreed terms, our router settings, the peer's max-prefix. */
  private desiredOf(
    session: PeeringSession,
    terms: SessionTerms,
    secret: string | undefined,
    maxPrefixes: number | undefined,
  ): DesiredSession {
    return desiredSession(
      { ...terms, sessionSecret: secret },
      {
        ...this.options.router,
        name: session.spec.sessionId,
        ...(maxPrefixes === undefined ? {} : { maxPrefixes }),
      },
    );
  }

  private adoptRemote(status: PeeringSessionStatus, remote: RemoteSession | undefined): void {
    if (remote === undefined) {
      status.state = 'unestablished';
      status.stateReason = 'the peer no longer has this session';
      return;
    }
    const word = readStatus(String(remote.status));
    if ((SESSION_STATUSES as readonly string[]).includes(word)) {
      status.state = word as SessionStatus;
      delete status.stateReason;
    } else {
      status.stateReason = `the peer reports a status we do not know: "${String(remote.status).slice(0, 64)}"`;
    }
  }

  /**
   * The max-prefix limit: our router settings', else PeeringDB's recommendation for the peer and family.
   * PeeringDB being unreachable must not keep a session off the router: the limit is then left out, and applied
   * on a later reconfiguration.
   */
  private async peerMaxPrefixes(terms: { peerAsn: number; peerIp: string }): Promise<number | undefined> {
    if (this.options.router?.maxPrefixes !== undefined) return this.options.router.maxPrefixes;
    try {
      return maxPrefixesFor(await this.deps.peeringDb?.network(terms.peerAsn), addressFamily(terms.peerIp));
    } catch {
      return undefined;
    }
  }

  private async peerApi(session: PeeringSession): Promise<PeerApi> {
    return connectOutbound(
      this.deps.peers,
      this.deps.tokens,
      session.metadata.namespace,
      session.spec,
      'session',
    );
  }

  private async writeStatus(
    session: PeeringSession,
    status: PeeringSessionStatus,
    desired: Parameters<typeof setConditions>[1],
  ): Promise<PeeringSession> {
    const generation = session.metadata.generation;
    const update = setConditions(session.status?.conditions, desired, generation, new Date(this.clock.now()));
    const next: PeeringSessionStatus = {
      ...status,
      conditions: update.conditions,
      observedGeneration: generation,
    };
    if (sameStatus(session.status ?? {}, next)) return session;
    const written = await this.deps.sessions.updateStatus({ ...session, status: next });
    recordTransitions(this.deps.events, session, update.transitions, ['Ready', 'Synced', 'Accepted']);
    return written;
  }
}

/** The agent's report as the driver's observation, for the status rules shared with the in-process router. */
function observedFromReport(bgp: BgpObservation): ObservedSession {
  return {
    key: '',
    protocol: '',
    state: bgp.state,
    routes: { imported: bgp.prefixesReceived ?? 0, exported: bgp.prefixesSent ?? 0 },
  };
}

function isConfigured(status: PeeringSessionStatus | undefined): boolean {
  return status?.conditions?.some((c) => c.type === 'Configured' && c.status === 'True') ?? false;
}

function previousSync(status: PeeringSessionStatus | undefined): SyncView {
  const synced = status?.conditions?.find((c) => c.type === 'Synced');
  return synced && synced.status === 'False'
    ? { ok: false, reason: synced.reason, message: synced.message }
    : { ok: true };
}
