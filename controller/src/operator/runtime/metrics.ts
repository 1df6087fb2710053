import { MetricSet } from '../../metrics/metric-set.js';

/**
 * The operator's Prometheus metrics on a registry of its own (two operators in one test process must not share
 * counters): reconciles, the queue, informer restarts, calls to peers and to the Kubernetes API, sessions by state.
 */
export class OperatorMetrics extends MetricSet {
  readonly reconciles = this.counter(
    'peering_operator_reconcile_total',
    'Reconciles by controller and result (success, requeue, error)',
    ['controller', 'result'],
  );
  readonly reconcileDuration = this.histogram(
    'peering_operator_reconcile_duration_seconds',
    'Reconcile duration by controller',
    ['controller'],
    [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 30],
  );
  readonly queueDepth = this.gauge('peering_operator_workqueue_depth', 'Keys waiting in the work queue', [
    'controller',
  ]);
  readonly retries = this.counter(
    'peering_operator_workqueue_retries_total',
    'Keys re-queued with backoff after a failed reconcile',
    ['controller'],
  );
  readonly informerRestarts = this.counter(
    'peering_operator_informer_restarts_total',
    'Informer restarts by resource and reason (error, silence, relist, gone)',
    ['resource', 'reason'],
  );
  readonly peerCalls = this.counter(
    'peering_operator_peer_api_calls_total',
    "Calls to peers' Peering APIs by remote ASN, operation and outcome (HTTP status or error code)",
    ['peer_asn', 'operation', 'outcome'],
  );
  readonly kubeRequests = this.counter(
    'peering_operator_kube_api_requests_total',
    'Requests to the Kubernetes API by verb and status code',
    ['verb', 'code'],
  );
  /** Where the sessions gauge counts from at scrape time (the operator points it at its cache). */
  sessionSource: (() => Iterable<{ direction: string; state: string }>) | undefined;
  readonly sessions = this.gauge(
    'peering_operator_sessions',
    'PeeringSessions by direction and state, from the cache at scrape time',
    ['direction', 'state'],
    () => {
      if (!this.sessionSource) return;
      this.sessions.reset();
      for (const { direction, state } of this.sessionSource()) this.sessions.inc({ direction, state });
    },
  );
  readonly leader = this.gauge('peering_operator_leader', '1 while this replica holds the leader Lease', []);
}
