import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The operator's Prometheus metrics on a registry of its own (two operators in one test process must not share
 * counters): reconciles, the queue, informer restarts, calls to peers and to the Kubernetes API, sessions by state.
 */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'peering_operator_reconcile_total',
    help: 'Reconciles by controller and result (success, requeue, error)',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'peering_operator_reconcile_duration_seconds',
    help: 'Reconcile duration by controller',
    labelNames: ['controller'] as const,
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 30],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'peering_operator_workqueue_depth',
    help: 'Keys waiting in the work queue',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'peering_operator_workqueue_retries_total',
    help: 'Keys re-queued with backoff after a failed reconcile',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly informerRestarts = new Counter({
    name: 'peering_operator_informer_restarts_total',
    help: 'Informer restarts by resource and reason (error, silence, relist, gone)',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });
  readonly peerCalls = new Counter({
    name: 'peering_operator_peer_api_calls_total',
    help: "Calls to peers' Peering APIs by remote ASN, operation and outcome (HTTP status or error code)",
    labelNames: ['peer_asn', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly kubeRequests = new Counter({
    name: 'peering_operator_kube_api_requests_total',
    help: 'Requests to the Kubernetes API by verb and status code',
    labelNames: ['verb', 'code'] as const,
    registers: [this.registry],
  });
  /** Where the sessions gauge counts from at scrape time (the operator points it at its cache). */
  sessionSource: (() => Iterable<{ direction: string; state: string }>) | undefined;
  readonly sessions = new Gauge({
    name: 'peering_operator_sessions',
    help: 'PeeringSessions by direction and state, from the cache at scrape time',
    labelNames: ['direction', 'state'] as const,
    registers: [this.registry],
    collect: () => {
      if (!this.sessionSource) return;
      this.sessions.reset();
      for (const { direction, state } of this.sessionSource()) this.sessions.inc({ direction, state });
    },
  });
  readonly leader = new Gauge({
    name: 'peering_operator_leader',
    help: '1 while this replica holds the leader Lease',
    registers: [this.registry],
  });

  constructor(defaultMetrics = false) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
