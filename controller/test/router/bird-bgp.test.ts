import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { statusFromObserved, type DesiredSession } from '../../src/router/driver.js';
import type { BirdRouterDriver } from '../../src/router/bird/bird-driver.js';
import { describeWithBird, freePort, startBirdPair, waitForSession, type BirdPair } from '../support/bird.js';

// BGP between two real BIRDs configured by the driver: AS64500 (a) and AS64501 (b) on a loopback block of their
// own. Every scenario uses an address pair of its own, because BIRD runs one session per neighbour address at a
// time; the restart scenario comes last because it takes b down for everyone.
describeWithBird('BIRD driver: BGP between two real BIRDs', () => {
  let pair: BirdPair;
  let a: BirdRouterDriver;
  let b: BirdRouterDriver;
  let next = 10;

  beforeAll(async () => {
    pair = await startBirdPair();
    a = pair.a.driver();
    b = pair.b.driver();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  /** Both ends of a new session between a and b, on addresses of its own. */
  function sessionPair(
    extraA: Partial<DesiredSession> = {},
    extraB: Partial<DesiredSession> = {},
  ): [DesiredSession, DesiredSession] {
    const n = next++;
    const atA = { asn: 64500, address: pair.address(n) };
    const atB = { asn: 64501, address: pair.address(n + 100) };
    return [
      {
        ...pair.a.sessionTo(atB),
        localIp: atA.address,
        key: `64501|pdb:ix:1|${atA.address}|${atB.address}`,
        ...extraA,
      },
      {
        ...pair.b.sessionTo(atA),
        localIp: atB.address,
        key: `64500|pdb:ix:1|${atB.address}|${atA.address}`,
        ...extraB,
      },
    ];
  }

  async function configure(sa: DesiredSession, sb: DesiredSession): Promise<void> {
    const [ra, rb] = await Promise.all([a.apply({ upsert: [sa] }), b.apply({ upsert: [sb] })]);
    expect(ra.sessions).toEqual([{ key: sa.key, outcome: 'configured', change: 'created' }]);
    expect(rb.sessions).toEqual([{ key: sb.key, outcome: 'configured', change: 'created' }]);
  }

  it('reaches Established on both sides, as the driver and birdc both report', async () => {
    const [sa, sb] = sessionPair(
      { secret: 's3cret', localRole: 4, peerRole: 4 },
      { secret: 's3cret', localRole: 4 },
    );
    const started = Date.now();
    await configure(sa, sb);
    const fromA = await waitForSession(a, sa.key, 'established');
    const fromB = await waitForSession(b, sb.key, 'established');
    console.log(`BGP established ${Date.now() - started} ms after apply`);
    expect(fromA).toMatchObject({ protocol: a.protocolOf(sa.key), lastError: undefined });
    expect(fromA?.since?.getTime()).toBeGreaterThan(started - 2000);
    expect(fromB?.state).toBe('established');
    const birdc = await pair.a.birdc(`show protocols all ${a.protocolOf(sa.key)}`);
    expect(birdc).toMatch(/BGP state:\s+Established/);
    // RFC 9234 roles were exchanged as rendered.
    expect(birdc).toMatch(/Neighbor capabilities[\s\S]*Role: peer/);
  });

  it('passes routes only where an export and an import filter allow them, never by default', async () => {
    const [sa, sb] = sessionPair({ exportFilter: 'export_announced' }, { importFilter: 'import_all' });
    const [quietA, quietB] = sessionPair();
    await configure(sa, sb);
    await configure(quietA, quietB);
    const received = await waitForSession(
      b,
      sb.key,
      (s) => s?.state === 'established' && s.routes.imported === 1,
    );
    expect(received?.routes).toEqual({ imported: 1, exported: 0 });
    expect((await waitForSession(a, sa.key, 'established'))?.routes).toEqual({ imported: 0, exported: 1 });
    const table = await pair.b.birdc(`show route protocol ${b.protocolOf(sb.key)}`);
    expect(table).toContain('198.51.100.0/24');
    expect(table).not.toContain('203.0.113.0/24');

    // The default session: established, and not a single route either way.
    await waitForSession(a, quietA.key, 'established');
    await waitForSession(b, quietB.key, 'established');
    const quiet = [
      (await a.observe()).find((s) => s.key === quietA.key),
      (await b.observe()).find((s) => s.key === quietB.key),
    ];
    expect(quiet.map((s) => s?.routes)).toEqual([
      { imported: 0, exported: 0 },
      { imported: 0, exported: 0 },
    ]);
  });

  it('does not come up when the secrets differ, and comes up once they match (an in-place update)', async () => {
    const [sa, sb] = sessionPair({ secret: 'one' }, { secret: 'two' });
    await configure(sa, sb);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const stuck = (await a.observe()).find((s) => s.key === sa.key);
    expect(['idle', 'connect', 'active']).toContain(stuck?.state);
    expect((await b.apply({ upsert: [{ ...sb, secret: 'one' }] })).sessions[0]).toMatchObject({
      change: 'updated',
    });
    await waitForSession(a, sa.key, 'established');
  });

  it('restarts a session whose peer sends more prefixes than its max-prefix, and holds once the limit fits', async () => {
    // b announces two prefixes; a accepts one.
    const [sa, sb] = sessionPair(
      { importFilter: 'import_all', maxPrefixes: 1 },
      { exportFilter: 'export_announced' },
    );
    await configure(sa, sb);
    const limited = await waitForSession(a, sa.key, (s) => /limit/i.test(s?.lastError ?? ''));
    expect(limited?.lastError).toMatch(/Route limit exceeded/);
    expect((await a.apply({ upsert: [{ ...sa, maxPrefixes: 2 }] })).sessions[0]).toMatchObject({
      change: 'updated',
    });
    const fits = await waitForSession(
      a,
      sa.key,
      (s) => s?.state === 'established' && s.routes.imported === 2,
    );
    expect(fits?.routes.imported).toBe(2);
    expect(await pair.a.birdc(`show protocols all ${a.protocolOf(sa.key)}`)).toMatch(/Import limit:\s+2/);
  });

  it('removes the protocol from BIRD, and its file, when the session is removed', async () => {
    const [sa, sb] = sessionPair();
    await configure(sa, sb);
    await waitForSession(a, sa.key, 'established');
    expect((await a.apply({ remove: [sa.key] })).sessions).toEqual([
      { key: sa.key, outcome: 'removed', change: 'removed' },
    ]);
    await waitForSession(a, sa.key, (s) => s === undefined);
    expect(existsSync(join(pair.a.includeDir, `${a.protocolOf(sa.key)}.conf`))).toBe(false);
    expect((await pair.a.command(`show protocols "${a.protocolOf(sa.key)}"`)).code).toBe(8003);
    // The peer sees the session go.
    await waitForSession(b, sb.key, (s) => s !== undefined && s.state !== 'established');
    expect((await a.apply({ remove: [sa.key] })).sessions[0]).toMatchObject({ change: 'absent' });
  });

  it('runs an IPv6 session (over ::1, the one IPv6 loopback address, with one port per BIRD)', async () => {
    const portA = await freePort(['::1']);
    const portB = await freePort(['::1']);
    const session = (
      localAsn: number,
      peerAsn: number,
      localPort: number,
      peerPort: number,
    ): DesiredSession => ({
      key: `${peerAsn}|pdb:ix:1|::1|::1`,
      localAsn,
      localIp: '::1',
      peerAsn,
      peerIp: '::1',
      localPort,
      peerPort,
      importFilter: 'import_all',
      exportFilter: 'export_announced',
    });
    const sa = session(64500, 64501, portA, portB);
    const sb = session(64501, 64500, portB, portA);
    await configure(sa, sb);
    const up = await waitForSession(a, sa.key, (s) => s?.state === 'established' && s.routes.exported === 1);
    expect(up?.routes.exported).toBe(1);
    expect(await pair.a.birdc(`show protocols all ${a.protocolOf(sa.key)}`)).toContain('Channel ipv6');
  });

  it('reports down when the peer BIRD dies, and established again when it is back', async () => {
    const [sa, sb] = sessionPair();
    await configure(sa, sb);
    const up = await waitForSession(a, sa.key, 'established');
    let status = statusFromObserved(up, 'configured');
    expect(status).toBe('established');

    await pair.b.kill('SIGKILL');
    const down = await waitForSession(a, sa.key, (s) => s?.state !== 'established', 10_000);
    status = statusFromObserved(down, status);
    expect(status).toBe('down');

    await pair.b.start();
    const back = await waitForSession(a, sa.key, 'established', 15_000);
    expect(statusFromObserved(back, status)).toBe('established');
    expect(back?.since?.getTime()).toBeGreaterThan(up?.since?.getTime() ?? Infinity);
  });
});
