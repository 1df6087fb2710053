import type { Config } from '../config/config.js';
import { discoverSessions } from '../discovery/common-locations.js';
import type { PeeringDb } from '../peeringdb/peeringdb.js';
import type { RouterDriver } from '../router/driver.js';
import { startApiRuntime, type ApiRuntime } from '../runtime/api-runtime.js';
import type { OperatorBacking } from './backing.js';
import { CachingSecretReader } from './peer/credentials.js';
import { ClientPeerApiConnector, type PeerApiConnector } from './peer/peer-api.js';
import { RequestReconciler, type CrashPoints } from './reconcilers/request-reconciler.js';
import { ResourceSessionStore } from './reconcilers/resource-session-store.js';
import { SessionReconciler, type SessionReconcilerOptions } from './reconcilers/session-reconciler.js';
import { LABEL } from './resources/api-group.js';
import { objectKey } from './resources/object.js';
import type { PeeringRequest } from './resources/peering-request.js';
import type { PeeringSession } from './resources/peering-session.js';
import { SessionRouter } from './router/session-router.js';
import { systemClock, type Clock } from './runtime/clock.js';
import { Controller, type Reconcile } from './runtime/controller.js';
import { startHealthServer, type HealthServer } from './runtime/health.js';
import { Informer, type InformerOptions } from './runtime/informer.js';
import { LeaderElector } from './runtime/leader-election.js';
import { silentLogger, type Logger } from './runtime/logger.js';
import { OperatorMetrics } from './runtime/metrics.js';
import { isConflict } from './store/errors.js';

export interface OperatorOptions {
  backing: OperatorBacking;
  config: Config;
  router: RouterDriver;
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
  peeringDb?: PeeringDb;
  peers?: PeerApiConnector;
  sessions?: Partial<SessionReconcilerOptions>;
  workers?: { requests?: number; sessions?: number };
  queue?: { backoff?: { baseMs: number; maxMs: number }; rateLimit?: { perSecond: number; burst: number } };
  informers?: Omit<InformerOptions, 'clock' | 'logger' | 'metrics'>;
  resyncMs?: number;
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
  const backing = options.backing;
  const selection = { namespace: options.watchNamespace || undefined };
  const informerOptions = { ...options.informers, clock, logger, metrics };
  const requestInformer = new Informer<PeeringRequest>(backing.requests, selection, informerOptions);
  const sessionInformer = new Informer<PeeringSession>(backing.sessions, selection, informerOptions);

  // Sessions by owning request, kept from the informer's events.
  const byRequest = new Map<string, Set<string>>();
  const ownerKey = (s: PeeringSession) => {
    const owner = s.metadata.labels?.[LABEL.request];
    return owner === undefined ? undefined : `${s.metadata.namespace}/${owner}`;
  };
  const secrets = new CachingSecretReader(backing.secrets);
  const peers = options.peers ?? new ClientPeerApiConnector({ metrics });
  const router = new SessionRouter(options.router, { clock });
  const timeWindowMs = options.sessions?.timeWindowMs ?? options.config.policy.timeWindow;
  const peeringDb = options.peeringDb ?? (options.api === false ? undefined : options.api?.peeringDb);

  const sessionReconciler = new SessionReconciler(
    {
      sessions: backing.sessions,
      cached: (key) => sessionInformer.get(key),
      secrets,
      peers,
      router,
      events: backing.events,
      clock,
      logger,
    },
    { ...options.sessions, timeWindowMs },
  );
  const requestReconciler = new RequestReconciler({
    requests: backing.requests,
    sessions: backing.sessions,
    cached: (key) => requestInformer.get(key),
    sessionsOf: (namespace, name) =>
      [...(byRequest.get(`${namespace}/${name}`) ?? [])].flatMap((key) => {
        const session = sessionInformer.get(key);
        return session ? [session] : [];
      }),
    secrets,
    peers,
    events: backing.events,
    discover: peeringDb ? (query) => discoverSessions(peeringDb, query) : undefined,
    clock,
    logger,
    newId: options.newId,
    crashPoints: options.crashPoints,
  });

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
    workers: options.workers?.sessions ?? 8,
    reconcile: conflictsRetrySoon((key) => sessionReconciler.reconcile(key)),
    resyncKeys: () => sessionInformer.keys(),
  });
  requestInformer.on((_event, request) => requestController.enqueue(objectKey(request.metadata)));
  sessionInformer.on((event, session) => {
    const key = objectKey(session.metadata);
    const owner = ownerKey(session);
    if (owner !== undefined) {
      const set = byRequest.get(owner) ?? new Set<string>();
      if (event === 'delete') set.delete(key);
      else set.add(key);
      if (set.size === 0) byRequest.delete(owner);
      else byRequest.set(owner, set);
      requestController.enqueue(owner);
    }
    sessionController.enqueue(key);
  });
  metrics.sessionSource = () =>
    sessionInformer.list().map((s) => ({ direction: s.spec.direction, state: s.status?.state ?? 'unknown' }));

  let reconciling = false;
  let reconcilingWaiters: (() => void)[] = [];
  const startReconciling = async () => {
    if (reconciling) return;
    reconciling = true;
    await Promise.all([requestInformer.waitForSync(), sessionInformer.waitForSync()]);
    if (!reconciling) return;
    requestController.start();
    sessionController.start();
    logger.info('reconciling', { namespace: options.watchNamespace || '(all)' });
    for (const waiter of reconcilingWaiters.splice(0)) waiter();
  };
  const stopReconciling = async () => {
    if (!reconciling) return;
    reconciling = false;
    await Promise.all([requestController.stop(), sessionController.stop()]);
  };

  // Informers run on every replica, so a standby takes over with warm caches.
  requestInformer.start();
  sessionInformer.start();

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
      onStoppedLeading: () => {
        void stopReconciling();
        if (everLed) options.onLostLeadership?.();
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
        store: new ResourceSessionStore(backing.requests, backing.sessions, options.inboundNamespace),
        listen: options.api?.listen,
        configDir: options.api?.configDir,
        peeringDb: options.api?.peeringDb ?? options.peeringDb,
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
            reconciling && (!requestInformer.healthy() || !sessionInformer.healthy())
              ? 'an informer has been silent or failing for too long'
              : undefined,
        },
        ready: {
          informers: () =>
            requestInformer.hasSynced() && sessionInformer.hasSynced() ? undefined : 'caches not filled yet',
        },
      });
    }
  } catch (error) {
    requestInformer.stop();
    sessionInformer.stop();
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
      requestInformer.stop();
      sessionInformer.stop();
      // A dead process renews nothing and releases nothing.
      elector?.abandon();
      await api?.close();
      await health?.close();
      await peers.close();
      await backing.close();
    },
  };
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
