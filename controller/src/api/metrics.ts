import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The API server's Prometheus metrics, on a registry of its own (several servers can share a process). */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'peering_api_requests_total',
    help: 'Peering API requests by route, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'peering_api_request_duration_seconds',
    help: 'Peering API request duration',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly sessionDecisions = new Counter({
    name: 'peering_api_session_decisions_total',
    help: 'Requested sessions by outcome (accepted or the rejection code)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(defaultMetrics = false) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
