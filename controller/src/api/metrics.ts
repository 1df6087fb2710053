import { MetricSet } from '../metrics/metric-set.js';

/** The API server's Prometheus metrics, on a registry of its own (several servers can share a process). */
export class ApiMetrics extends MetricSet {
  readonly requests = this.counter(
    'peering_api_requests_total',
    'Peering API requests by route, method and status code',
    ['route', 'method', 'status'],
  );
  readonly duration = this.histogram(
    'peering_api_request_duration_seconds',
    'Peering API request duration',
    ['route', 'method'],
    [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  );
  readonly authenticated = this.counter(
    'peering_api_authenticated_requests_total',
    'Authenticated Peering API requests by what they proved: bearer (a token only), dpop (RFC 9449), dpop+signature (and RFC 9421)',
    ['proof'],
  );
  readonly sessionDecisions = this.counter(
    'peering_api_session_decisions_total',
    'Requested sessions by outcome (accepted or the rejection code)',
    ['outcome'],
  );
}
