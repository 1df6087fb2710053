import type { Config } from '../config/config.js';
import { discoverSessions } from '../discovery/common-locations.js';
import { CounterRequests } from './reconcilers/counter-request.js';
import { RouterWatch } from './reconcilers/router-watch.js';
import { DEFAULT_AGENT_TIMEOUT_MS, RouterMonitor } from './reconcilers/router-monitor.js';
import { ApprovalReconciler } from './reconcilers/approvals.js';
import type { PeeringApproval } from './resources/peering-approval.js';
import type { Router } from './resources/router.js';
import { NoRouterDriver } from '../router/no-router.js';
import { PeeringError } from '../domain/errors.js';
import type { PeeringDb } from '../peeringdb/peeringdb.js';
import type { RouterDriver } from '../router/driver.js';
import { openPeeringDb, startApiRuntime, type ApiRuntime } from '../api/runtime.js';
import type { OperatorBacking } from './backing/backing.js';
import { CachingSecretReader, PeerTokenSources } from './peer/credentials.js';
import { ClientPeerApiConnector, type PeerApiConnector } from './peer/peer-api.js';
import { RequestReconciler, type CrashPoints } from './reconcilers/request-reconciler.js';
import { ResourceSessionStore } from '../store/resource-session-store.js';
import { SessionReconciler, type SessionReconcilerOptions } from './reconcilers/session-reconciler.js';
import { LABEL } from './resources/api-group.js';
import { objectKey } from './resources/object.js';
import type { PeeringRequest } from './resources/peering-request.js';
import type { PeeringSession } from './resources/peering-session.js';
import { SessionRouter } from '../router/session-router.js';
import { systemClock, type Clock } from '../time/clock.js';
import { Controller, type Reconcile } from './runtime/controller.js';
import { startHealthServer, type HealthServer } from './runtime/health.js';
import { Informer, type InformerOptions } from './runtime/informer.js';
import { LeaderElector } from './runtime/leader-election.js';
import { silentLogger, type Logger } from './runtime/logger.js';
import { OperatorMetrics } from './runtime/metrics.js';
import { isConflict } from './backing/errors.js';
import type { ResourceCollection } from './backing/resource-collection.js';
import type { Resource } from './resources/object.js';

export interface OperatorOptions {
  backing: OperatorBacking;
  config: Config;
  /** The router this process configures in-process; absent: none (sessions say NoRouter) unless `routerAgents`. */
  router?: RouterDriver | undefined;
  /**
   * Routers are Router resources driven by router agents (Kubernetes): the operator assigns each session to one
   * and reads back what its agent reports. Needs `backing.routers`.
   */
  routerAgents?: { agentTimeoutMs?: number; monitorMs?: number } | undefined;
  /** Namespace whose resources are reconciled; `undefined` or '' for all (needs a ClusterRole). */
  watchNamespace?: string | undefined;
  /** Where our API server writes inbound requests and sessions. */
  inboundNamespace: string;
  /** Serve the Peering API (both replicas do; only the leader reconciles). Default: on, at `config.listen`. */
  api?: { listen?: string; configDir?: string; peeringDb?: PeeringDb } | false;
  /** `/healthz`, `/readyz`, `/metrics` on a port of their own. */
  health?: { listen: string } | undefined;
  /** Lease-based leader election (needs `backing.leases`); without it this replica always reconciles. */
  leaderElection?:
    | { identity: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number }
    | undefined;
  /** Called when leadership is lost after having been held: a pod should exit and restart clean. */
  onLostLeadership?: () => void;
  /** An inbound request left without sessions is removed this long after (default 10 minutes). */
  emptyRequestGraceMs?: number | undefined;
  peeringDb?: PeeringDb;
  peers?: PeerApiConnector;
  sessions?: Partial<SessionReconcilerOptions>;
  workers?: { requests?: number; sessions?: number };
  queue?: { backoff?: { baseMs: number; maxMs: number }; rateLimit?: { perSecond: number; burst: number } };
  informers?: Omit<InformerOptions, 'clock' | 'logger' | 'metrics'>;
  resyncMs?: number;
  /** How often the whole router is looked at for BGP changes (default 5 s); 0 turns the watch off. */
  routerWatchMs?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: OperatorMetrics;
  crashPoints?: CrashPoints;
  newId?: () => string;
}

export interface RunningOperator {
  metrics: OperatorMetrics;
  /** The Peering API, when served. */
  api: ApiRuntime | undefined;
  health: HealthServer | undefined;
  isLeader(): boolean;
  /** Resolves once this replica reconciles and its caches are filled. */
  whenReconciling(): Promise<void>;
  /** Graceful: stop reconciling (in-flight reconciles finish), release the Lease, close the API and the backing. */
  stop(): Promise<void>;
  /** A crash: everything stops at once, nothing is released or finished (for crash-safety tests). */
  kill(): Promise<void>;
}

/**
 * Starts the operator: informers on both kinds, a controller per kind, the Peering API on the same resources,
 * leader election, health and metrics. The same wiring runs on Kubernetes and on the embedded store.
 *
 * @example
 * const operator = await startOperator({ backing: kubernetesBacking(kube), config, router, inboundNamespace: 'peering' });
 * process.on('SIGTERM', () => void operator.stop());
 */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics ?? new OperatorMetrics();
  // Each controller's own writes (tracked per kind and writer) do not wake it up again.
  const own = new OwnWrites();
  const backing = {
    ...options.backing,
    requests: own.track(options.backing.requests),
    sessions: own.track(options.backing.sessions),
  };
  const selection = { namespace: options.watchNamespace || undefined };
  const informerOptions = { ...options.informers, clock, logger, metrics };
  const requestInformer = new Informer<PeeringRequest>(backing.requests, selection, informerOptions);
  const sessionInformer = new Informer<PeeringSession>(backing.sessions, selection, informerOptions);
  const approvalInformer = backing.approvals
    ? new Informer<PeeringApproval>(backing.approvals, selection, informerOptions)
    : undefined;
  const approvalsIn = (namespace: string) =>
    approvalInformer?.list().filter((a) => a.metadata.namespace === namespace) ?? [];

  // Sessions by owning request, kept from the informer's events.
  const byRequest = new Map<string, Set<string>>();
  const ownerKey = (s: PeeringSession) => {
    const owner = s.metadata.labels?.[LABEL.request];
    return owner === undefined ? undefined : `${s.metadata.namespace}/${owner}`;
  };
  const secrets = new CachingSecretReader(backing.secrets);
  const tokens = new PeerTokenSources(secrets);
  const peers = options.peers ?? new ClientPeerApiConnector({ metrics });
  const router = new SessionRouter(options.router ?? new NoRouterDriver(), { clock });
  const routerCollection = options.routerAgents ? options.backing.routers : undefined;
  if (options.routerAgents && !routerCollection) {
    throw new PeeringError(
      'INVALID_CONFIG',
      'router agents need Router resources: run on Kubernetes',
      'router',
    );
  }
  const routerInformer = routerCollection
    ? new Informer<Router>(routerCollection, selection, informerOptions)
    : undefined;
  const agentTimeoutMs = options.routerAgents?.agentTimeoutMs ?? DEFAULT_AGENT_TIMEOUT_MS;
  const fleet = routerInformer
    ? {
        routers: (namespace: string) =>
          routerInformer.list().filter((r) => r.metadata.namespace === namespace),
        agentTimeoutMs,
      }
    : undefined;
  const timeWindowMs = options.sessions?.timeWindowMs ?? options.config.policy.timeWindow;
  // One PeeringDB source for discovery, max-prefix limits and the API server: the one given, else the
  // configuration's.
  const peeringDb =
    options.peeringDb ??
    (options.api === false ? undefined : options.api?.peeringDb) ??
    (await openPeeringDb(
      options.config,
      (options.api === false ? undefined : options.api?.configDir) ?? process.cwd(),
    ));

  const sessionReconciler = new SessionReconciler(
    {
      sessions: backing.sessions,
      cached: (key) => sessionInformer.get(key),
      secrets,
      tokens,
      peers,
      router,
      fleet,
      events: backing.events,
      peeringDb,
      clock,
      logger,
    },
    { ...options.sessions, timeWindowMs },
  );
  const counterPolicy = options.config.policy.counterRequests;
  const serving = options.api !== false;
  const counterRequests =
    counterPolicy.mode === 'off' || !counterPolicy.credentials || !peeringDb || !serving
      ? undefined
      : new CounterRequests(
          {
            requests: backing.requests,
            sessions: backing.sessions,
            discover: (query) => discoverSessions(peeringDb, query),
            events: backing.events,
            clock,
          },
          {
            mode: counterPolicy.mode,
            locations: counterPolicy.locations,
            perPeerPerHour: counterPolicy.perPeerPerHour,
            credentials: counterPolicy.credentials,
            rules: {
              allowLoopback: counterPolicy.allowLoopbackTargets,
              allowPrivate: counterPolicy.allowPrivateTargets,
            },
          },
        );
  const requestReconciler = new RequestReconciler({
    requests: backing.requests,
    // Its writes to sessions (approval) must reach the session controller: not tracked as own.
    sessions: options.backing.sessions,
    cached: (key) => requestInformer.get(key),
    sessionsOf: (namespace, name) =>
      [...(byRequest.get(`${namespace}/${name}`) ?? [])].flatMap((key) => {
        const session = sessionInformer.get(key);
        return session ? [session] : [];
      }),
    secrets,
    tokens,
    peers,
    events: backing.events,
    discover: peeringDb ? (query) => discoverSessions(peeringDb, query) : undefined,
    counterRequests,
    // Peers may send a counter-request to our API (the draft's return_url), when we serve one.
    returnUrl: serving ? options.config.apiUrl : undefined,
    clock,
    logger,
    newId: options.newId,
    crashPoints: options.crashPoints,
    emptyRequestGraceMs: options.emptyRequestGraceMs,
    approvals: approvalInformer ? approvalsIn : undefined,
  });
  const approvalReconciler =
    approvalInformer && backing.approvals
      ? new ApprovalReconciler({
          approvals: backing.approvals,
          cached: (key) => approvalInformer.get(key),
          sessionsIn: (namespace) =>
            sessionInformer
              .list()
              .filter((s) => s.metadata.namespace === namespace && s.spec.direction === 'Inbound'),
          events: backing.events,
          clock,
        })
      : undefined;

  const controllerOptions = { clock, logger, metrics, queue: options.queue, resyncMs: options.resyncMs };
  const requestController = new Controller({
    ...controllerOptions,
    name: 'peeringrequest',
    workers: options.workers?.requests ?? 2,
    reconcile: conflictsRetrySoon((key) => requestReconciler.reconcile(key)),
    resyncKeys: () => requestInformer.keys(),
  });
  const sessionController = new Controller({
    ...controllerOptions,
    name: 'peeringsession',
    workers: options.workers?.sessions ?? 32,
    reconcile: conflictsRetrySoon((key) => sessionReconciler.reconcile(key)),
    resyncKeys: () => sessionInformer.keys(),
  });
  const approvalController = approvalReconciler
    ? new Controller({
        ...controllerOptions,
        name: 'peeringapproval',
        workers: 1,
        reconcile: conflictsRetrySoon((key) => approvalReconciler.reconcile(key)),
        resyncKeys: () => approvalInformer?.keys() ?? [],
      })
    : undefined;
  // An approval merged in git may come before or after the peer asks: either way the inbound requests of that
  // peer look again, and the approval's status follows the sessions it covers.
  approvalInformer?.on((event, approval) =>
    setImmediate(() => {
      approvalController?.enqueue(objectKey(approval.metadata));
      if (event === 'delete') return;
      for (const request of requestInformer.list()) {
        if (
          request.metadata.namespace === approval.metadata.namespace &&
          request.spec.direction === 'Inbound' &&
          request.spec.peerAsn === approval.spec.peerAsn
        )
          requestController.enqueue(objectKey(request.metadata));
      }
    }),
  );
  const approvalsOfSession = (session: PeeringSession) => {
    if (!approvalController || session.spec.direction !== 'Inbound') return;
    for (const approval of approvalsIn(session.metadata.namespace)) {
      if (approval.spec.peerAsn === session.spec.peerAsn)
        approvalController.enqueue(objectKey(approval.metadata));
    }
  };
  // Our own writes come back as watch events; reconciling them again would only find nothing to do, and after
  // a failure (whose status write is such an event) would skip the backoff. Changes by anyone else still count.
  // The check waits a turn: a store may announce a write before the writer has seen its answer.
  requestInformer.on((event, request) => {
    setImmediate(() => {
      if (event === 'update' && own.isOwn(request)) return;
      requestController.enqueue(objectKey(request.metadata));
    });
  });
  sessionInformer.on((event, session) => setImmediate(() => onSession(event, session)));
  const onSession = (event: 'add' | 'update' | 'delete', session: PeeringSession) => {
    const key = objectKey(session.metadata);
    const mine = event === 'update' && own.isOwn(session);
    const owner = ownerKey(session);
    if (owner !== undefined) {
      const set = byRequest.get(owner) ?? new Set<string>();
      if (event === 'delete') set.delete(key);
      else set.add(key);
      if (set.size === 0) byRequest.delete(owner);
      else byRequest.set(owner, set);
      requestController.enqueue(owner);
    }
    approvalsOfSession(session);
    if (!mine) sessionController.enqueue(key);
  };
  // BGP changes on the router reach the reconciler within seconds, without a reconcile per session to look.
  const routerWatch =
    options.routerWatchMs === 0 || fleet
      ? undefined
      : new RouterWatch({
          router,
          sessions: () => sessionInformer.list(),
          enqueue: (key) => sessionController.enqueue(key),
          clock,
          logger,
          everyMs: options.routerWatchMs,
        });
  // With agents: a lost agent shows on its Router and its sessions; a changed Router may move sessions.
  const routerMonitor =
    routerInformer && routerCollection
      ? new RouterMonitor({
          routers: routerCollection,
          cachedRouters: () => routerInformer.list(),
          sessions: () => sessionInformer.list(),
          enqueueSession: (key) => sessionController.enqueue(key),
          events: backing.events,
          clock,
          logger,
          agentTimeoutMs,
          everyMs: options.routerAgents?.monitorMs,
        })
      : undefined;
  routerInformer?.on((event, changed) => setImmediate(() => routerMonitor?.routerChanged(event, changed)));
  metrics.sessionSource = () =>
    sessionInformer.list().map((s) => ({ direction: s.spec.direction, state: s.status?.state ?? 'unknown' }));

  let reconciling = false;
  let reconcilingWaiters: (() => void)[] = [];
  const startReconciling = async () => {
    if (reconciling) return;
    reconciling = true;
    await Promise.all([
      requestInformer.waitForSync(),
      sessionInformer.waitForSync(),
      routerInformer?.waitForSync(),
      approvalInformer?.waitForSync(),
    ]);
    if (!reconciling) return;
    await resyncRouter();
    if (!reconciling) return;
    requestController.start();
    sessionController.start();
    approvalController?.start();
    routerWatch?.start();
    routerMonitor?.start();
    logger.info('reconciling', { namespace: options.watchNamespace || '(all)' });
    for (const waiter of reconcilingWaiters.splice(0)) waiter();
  };
  // ADR 0004 §5: what a crash, or an object deleted while no replica reconciled, left on the router goes before
  // the controllers start (so no reconcile runs beside it). A failure is logged, not fatal: the controllers still
  // run, and the next start or leader change tries again.
  const resyncRouter = async () => {
    try {
      const result = await sessionReconciler.resyncRouter(sessionInformer.list());
      const removed = result.sessions.filter((s) => s.outcome === 'removed' && s.change === 'removed');
      logger.info('router resynced', {
        sessions: result.sessions.length - removed.length,
        removed: removed.map((s) => s.key),
      });
    } catch (error) {
      logger.error('router resync failed: sessions left behind stay until the next start or leader change', {
        error,
      });
    }
  };
  const stopReconciling = async () => {
    if (!reconciling) return;
    reconciling = false;
    routerWatch?.stop();
    routerMonitor?.stop();
    await Promise.all([requestController.stop(), sessionController.stop(), approvalController?.stop()]);
  };

  // Informers run on every replica, so a standby takes over with warm caches.
  requestInformer.start();
  sessionInformer.start();
  routerInformer?.start();
  approvalInformer?.start();

  let elector: LeaderElector | undefined;
  let everLed = false;
  if (options.leaderElection && backing.leases) {
    elector = new LeaderElector(backing.leases, {
      ...options.leaderElection,
      clock,
      logger,
      metrics,
      onStartedLeading: () => {
        everLed = true;
        void startReconciling();
      },
      onStoppedLeading: (cause) => {
        void stopReconciling();
        if (everLed && cause === 'lost') options.onLostLeadership?.();
      },
    });
    elector.start();
  } else {
    metrics.leader.set(1);
    void startReconciling();
  }

  let api: ApiRuntime | undefined;
  let health: HealthServer | undefined;
  try {
    if (options.api !== false) {
      api = await startApiRuntime(options.config, {
        store: new ResourceSessionStore(
          options.backing.asApiServer?.requests ?? options.backing.requests,
          options.backing.asApiServer?.sessions ?? options.backing.sessions,
          options.inboundNamespace,
        ),
        listen: options.api?.listen,
        configDir: options.api?.configDir,
        peeringDb,
        // The leader's session reconciler applies the time window; the API server must not, on any replica.
        timeWindowSweep: false,
        // The API's lines (a 500 says "it has been logged") go to the operator's JSON stream.
        logger: logger.child({ server: 'peering-api' }),
      });
    }
    if (options.health) {
      health = await startHealthServer({
        listen: options.health.listen,
        registry: metrics.registry,
        live: {
          lease: () =>
            elector && !elector.healthy() ? 'this replica leads but could not renew its lease' : undefined,
          informers: () =>
            reconciling &&
            (!requestInformer.healthy() ||
              !sessionInformer.healthy() ||
              routerInformer?.healthy() === false ||
              approvalInformer?.healthy() === false)
              ? 'an informer has been silent or failing for too long'
              : undefined,
        },
        ready: {
          informers: () =>
            requestInformer.hasSynced() &&
            sessionInformer.hasSynced() &&
            routerInformer?.hasSynced() !== false &&
            approvalInformer?.hasSynced() !== false
              ? undefined
              : 'caches not filled yet',
        },
      });
    }
  } catch (error) {
    requestInformer.stop();
    sessionInformer.stop();
    routerInformer?.stop();
    approvalInformer?.stop();
    await stopReconciling();
    await elector?.stop();
    await api?.close();
    throw error;
  }

  let stopped = false;
  return {
    metrics,
    api,
    health,
    isLeader: () => (elector ? elector.isLeader : true),
    whenReconciling: () =>
      reconciling && requestInformer.hasSynced() && sessionInformer.hasSynced()
        ? Promise.resolve()
        : new Promise((resolve) => reconcilingWaiters.push(resolve)),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stopReconciling();
      await elector?.stop();
      requestInformer.stop();
      sessionInformer.stop();
      routerInformer?.stop();
      approvalInformer?.stop();
      approvalInformer?.stop();
      await api?.close();
      await health?.close();
      await peers.close();
      await backing.close();
      reconcilingWaiters = [];
    },
    kill: async () => {
      if (stopped) return;
      stopped = true;
      reconciling = false;
      requestController.queue.shutDown();
      sessionController.queue.shutDown();
      approvalController?.queue.shutDown();
      requestInformer.stop();
      sessionInformer.stop();
      routerInformer?.stop();
      approvalInformer?.stop();
      approvalInformer?.stop();
      // A dead process renews nothing and releases nothing.
      elector?.abandon();
      await api?.close();
      await health?.close();
      await peers.close();
      await backing.close();
    },
  };
}

/** The resourceVersions this operator wrote, to tell its own changes from everyone else's in the watch. */
class OwnWrites {
  private readonly versions = new Set<string>();

  track<T extends Resource<unknown, unknown>>(collection: ResourceCollection<T>): ResourceCollection<T> {
    const remember = (written: T) => {
      if (written?.metadata?.resourceVersion) {
        this.versions.add(`${objectKey(written.metadata)}@${written.metadata.resourceVersion}`);
        if (this.versions.size > 100_000) this.versions.clear();
      }
      return written;
    };
    return {
      names: collection.names,
      get: (namespace, name) => collection.get(namespace, name),
      list: (selection) => collection.list(selection),
      watch: (version, handlers, selection) => collection.watch(version, handlers, selection),
      create: async (object) => remember(await collection.create(object)),
      update: async (object) => remember(await collection.update(object)),
      updateStatus: async (object) => remember(await collection.updateStatus(object)),
      delete: (namespace, name) => collection.delete(namespace, name),
    };
  }

  /** True (once) when this version of the object is one we wrote. */
  isOwn(object: Resource<unknown, unknown>): boolean {
    return this.versions.delete(`${objectKey(object.metadata)}@${object.metadata.resourceVersion}`);
  }
}

/** A write conflict only means the cache was behind: look again shortly, without counting a failure. */
function conflictsRetrySoon(reconcile: Reconcile): Reconcile {
  return async (key) => {
    try {
      return await reconcile(key);
    } catch (error) {
      if (isConflict(error)) return { requeueAfterMs: 200 };
      throw error;
    }
  };
}
