import { assignRouter, routerConnection } from '../../src/operator/reconcilers/router-assignment.js';
import { sessionConditions } from '../../src/operator/reconcilers/session-decisions.js';
import { RouterSpecSchema, type Router } from '../../src/operator/resources/router.js';

function router(
  name: string,
  addresses: string[],
  extra: Partial<Router['spec']> = {},
  status?: Router['status'],
): Router {
  return {
    apiVersion: 'peering.autopeer.dev/v1alpha1',
    kind: 'Router',
    metadata: { name, namespace: 'peering', generation: 1 },
    spec: { driver: 'bird', addresses, ...extra },
    ...(status ? { status } : {}),
  };
}

describe('assigning a session to a Router by its local address', () => {
  const edge1 = router('edge1', ['192.0.2.10', '2001:db8:1::10']);
  const edge2 = router('edge2', ['192.0.2.0/24']);
  const edge3 = router('edge3', ['192.0.2.0/25']);

  it('an exact address beats the prefixes that also hold it', () => {
    expect(assignRouter('192.0.2.10', 'pdb:ix:26', [edge2, edge1, edge3])).toMatchObject({
      kind: 'assigned',
      router: { metadata: { name: 'edge1' } },
    });
  });

  it('a longer prefix beats a shorter one; an address outside both goes nowhere', () => {
    expect(assignRouter('192.0.2.20', 'pdb:ix:26', [edge2, edge3])).toMatchObject({
      router: { metadata: { name: 'edge3' } },
    });
    expect(assignRouter('192.0.2.200', 'pdb:ix:26', [edge2, edge3])).toMatchObject({
      router: { metadata: { name: 'edge2' } },
    });
    const none = assignRouter('198.51.100.1', 'pdb:ix:26', [edge1, edge2, edge3]);
    expect(none).toMatchObject({ kind: 'none', reason: 'NoRouter' });
    expect(none.kind === 'none' && none.message).toContain('198.51.100.1');
  });

  it('IPv6 is compared in canonical form, and families never mix', () => {
    expect(assignRouter('2001:0db8:0001:0000:0000:0000:0000:0010', 'pdb:ix:26', [edge1])).toMatchObject({
      kind: 'assigned',
    });
    expect(assignRouter('::ffff:c000:20a', 'pdb:ix:26', [edge2]).kind).toBe('none');
  });

  it('two Routers equally specific are a conflict naming both, never a guess', () => {
    const twin = router('edge1b', ['192.0.2.10']);
    const result = assignRouter('192.0.2.10', 'pdb:ix:26', [edge1, twin]);
    expect(result).toMatchObject({ kind: 'ambiguous', reason: 'RouterConflict' });
    expect(result.kind === 'ambiguous' && result.message).toContain('edge1, edge1b');
  });

  it('locations narrow a Router to some exchanges; Routers being deleted take nothing', () => {
    const ams = router('ams', ['192.0.2.0/24'], { locations: ['pdb:ix:26'] });
    expect(assignRouter('192.0.2.1', 'pdb:ix:26', [ams]).kind).toBe('assigned');
    expect(assignRouter('192.0.2.1', 'pdb:ix:18', [ams]).kind).toBe('none');
    const going = { ...edge2, metadata: { ...edge2.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(assignRouter('192.0.2.1', 'pdb:ix:26', [going]).kind).toBe('none');
  });

  it('the Router spec refuses addresses that are not canonical or not addresses, naming the field', () => {
    expect(
      RouterSpecSchema.safeParse({ driver: 'bird', addresses: ['192.0.2.0/24', '2001:db8::/64'] }).success,
    ).toBe(true);
    for (const bad of ['192.0.2.300', '2001:DB8::1', 'edge1', '192.0.2.1/33', '']) {
      const parsed = RouterSpecSchema.safeParse({ driver: 'bird', addresses: [bad] });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual(['addresses', 0]);
    }
    expect(RouterSpecSchema.safeParse({ driver: 'quagga', addresses: ['192.0.2.1'] }).success).toBe(false);
    expect(
      RouterSpecSchema.safeParse({ driver: 'bird', addresses: ['192.0.2.1'], timers: { hold: 2 } }).error
        ?.issues[0]?.path,
    ).toEqual(['timers', 'hold']);
  });
});

describe("a Router's connection, from its agent's heartbeat", () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  const beat = (secondsAgo: number, condition?: { status: 'True' | 'False'; reason: string }) =>
    router(
      'edge1',
      ['192.0.2.10'],
      {},
      {
        agent: { identity: 'host1', heartbeatTime: new Date(now - secondsAgo * 1000).toISOString() },
        conditions: condition
          ? [
              {
                type: 'RouterConnected',
                ...condition,
                message: 'm',
                lastTransitionTime: '2026-12-03T11:00:00Z',
              },
            ]
          : [],
      },
    );

  it('is connected while the heartbeat is younger than the timeout, lost after', () => {
    expect(routerConnection(beat(14), now, 15_000)).toEqual({ connected: true });
    const lost = routerConnection(beat(16), now, 15_000);
    expect(lost).toMatchObject({ connected: false, reason: 'AgentLost' });
    expect(!lost.connected && lost.message).toMatch(
      /edge1 last reported at 2026-12-03T11:59:44.000Z \(16 s ago\)/,
    );
  });

  it('an agent that never reported, or said goodbye, is not connected whatever the clock', () => {
    expect(routerConnection(router('edge1', ['192.0.2.10']), now, 15_000)).toMatchObject({
      connected: false,
      reason: 'AgentNeverConnected',
    });
    expect(routerConnection(beat(1, { status: 'False', reason: 'AgentStopped' }), now, 15_000)).toMatchObject(
      {
        connected: false,
        reason: 'AgentStopped',
      },
    );
    // The operator's own AgentLost mark does not outlive a fresh heartbeat: the agent is back.
    expect(routerConnection(beat(1, { status: 'False', reason: 'AgentLost' }), now, 15_000)).toEqual({
      connected: true,
    });
  });

  it('a session waiting on a lost agent reads Configured and Established Unknown, never established', () => {
    const conditions = sessionConditions(
      'Inbound',
      { state: 'established' },
      { kind: 'waiting', reason: 'AgentLost', message: 'gone', bgp: { state: 'unknown', lastError: 'gone' } },
      { ok: true },
    );
    const byType = Object.fromEntries(conditions.map((c) => [c.type, c]));
    expect(byType['Configured']).toMatchObject({ status: 'Unknown', reason: 'AgentLost' });
    expect(byType['Established']).toMatchObject({ status: 'Unknown', reason: 'AgentLost' });
    expect(byType['Ready']).toMatchObject({ status: 'False', reason: 'AgentLost' });
  });
});
