import { startHealthServer } from '../../src/operator/runtime/health.js';
import { Logger } from '../../src/operator/runtime/logger.js';
import { OperatorMetrics } from '../../src/operator/runtime/metrics.js';

describe('health server', () => {
  it('answers liveness, readiness and metrics on loopback, naming failing checks', async () => {
    const metrics = new OperatorMetrics();
    metrics.leader.set(1);
    let leaseFresh = true;
    const health = await startHealthServer({
      listen: '127.0.0.1:0',
      live: { lease: () => (leaseFresh ? undefined : 'leading with a stale lease') },
      ready: { informers: () => 'peeringsessions not synced' },
      registry: metrics.registry,
    });
    try {
      expect((await fetch(`${health.origin}/healthz`)).status).toBe(200);
      leaseFresh = false;
      const dead = await fetch(`${health.origin}/healthz`);
      expect([dead.status, await dead.text()]).toEqual([503, 'lease: leading with a stale lease\n']);
      const ready = await fetch(`${health.origin}/readyz`);
      expect([ready.status, await ready.text()]).toEqual([503, 'informers: peeringsessions not synced\n']);
      expect(await (await fetch(`${health.origin}/metrics`)).text()).toContain('peering_operator_leader 1');
    } finally {
      await health.close();
    }
  });
});

describe('Logger', () => {
  it('writes one JSON object a line with the child fields, and drops lines under the level', () => {
    const lines: string[] = [];
    const log = new Logger({ level: 'info', sink: (l) => lines.push(l) }).child({
      controller: 'peeringsession',
    });
    log.debug('hidden');
    log.warn('reconcile failed', { key: 'ns/a', error: new Error('peer down') });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toEqual({
      time: expect.any(String),
      level: 'warn',
      msg: 'reconcile failed',
      controller: 'peeringsession',
      key: 'ns/a',
      error: { name: 'Error', message: 'peer down' },
    });
  });
});
