import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type GaugeConfiguration,
} from 'prom-client';

/**
 * A set of Prometheus metrics on a registry of its own, so that two servers or two operators in one process
 * (as in the tests) never share counters. The API server's and the operator's metrics are such sets.
 *
 * @example
 * class QueueMetrics extends MetricSet {
 *   readonly depth = this.gauge('queue_depth', 'Keys waiting', ['queue']);
 * }
 */
export class MetricSet {
  readonly registry = new Registry();

  constructor(defaultMetrics = false) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  protected counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  protected histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[],
  ): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  protected gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    collect?: GaugeConfiguration<L>['collect'],
  ): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry], ...(collect ? { collect } : {}) });
  }
}
