import type { DesiredSession } from '../../src/router/driver.js';
import { FrrRouterDriver } from '../../src/router/frr/frr-driver.js';
import type { FrrProcess } from '../../src/router/frr/frr-process.js';
import type { BirdRouterDriver } from '../../src/router/bird/bird-driver.js';
import {
  TEST_BGP_TIMERS,
  describeWithBird,
  freePort,
  loopbackBlock,
  startBird,
  waitForSession,
  type RunningBird,
} from '../support/bird.js';
import { describeWithFrr, startFrr } from '../support/frr.js';

interface FrrNeighborJson {
  bgpState?: string;
  bgpTimerUpEstablishedEpoch?: number;
  /** Counts every time the session came up: a reset shows here (the epoch moves with rounding). */
  connectionsEstablished?: number;
  nbrDesc?: string;
}

// The FRR driver against a real bgpd (FRR 8.4, Debian), peering with a real BIRD driven by the BIRD driver:
// AS64500 on BIRD, AS64501 on FRR, on a loopback block of their own, one unprivileged port.
describeWithBird('FRR driver', () =>
  describeWithFrr('FRR driver: BGP between FRR and BIRD, configured by the two drivers', () => {
    let bird: RunningBird;
    let frr: FrrProcess & { remove(): Promise<void> };
    let birdDriver: BirdRouterDriver;
    let driver: FrrRouterDriver;
    let address: (host: number) => string;
    let port: number;
    const defaults = () => ({
      localPort: port,
      peerPort: port,
      timers: TEST_BGP_TIMERS,
      multihop: 2,
      importFilter: 'peer_in',
      exportFilter: 'peer_out',
    });

    beforeAll(async () => {
      address = loopbackBlock();
      port = await freePort([address(2), address(3)]);
      bird = await startBird({ asn: 64500, address: address(2), port, announce: ['198.51.100.0/24'] });
      frr = await startFrr({
        asn: 64501,
        address: address(3),
        port,
        announce: ['203.0.113.0/24', '192.0.2.0/24'],
      });
      birdDriver = bird.driver({
        sessionDefaults: { exportFilter: 'export_announced', importFilter: 'import_all' },
      });
      driver = new FrrRouterDriver({ vtySocketDir: frr.dir, listenPort: port, sessionDefaults: defaults() });
    }, 60_000);
    afterAll(async () => {
      await frr?.remove();
      await bird?.stop();
    });

    const toBird = (extra: Partial<DesiredSession> = {}): DesiredSession => ({
      key: `64500|pdb:ix:1|${address(3)}|${address(2)}`,
      localAsn: 64501,
      localIp: address(3),
      peerAsn: 64500,
      peerIp: address(2),
      ...extra,
    });
    const neighbors = () => frr.vtysh.json<Record<string, FrrNeighborJson>>('show bgp neighbors json');
    const running = () => frr.show('show running-config');
    /** A line under `router bgp` typed by a person, as the router team would. */
    const byHand = (line: string) => frr.vtysh.command('configure terminal', 'router bgp 64501', line);

    it('reaches Established with BIRD (MD5, RFC 9234 roles, max-prefix) and exchanges routes', async () => {
      const before = await running();
      const session = toBird({
        secret: 's3cret!',
        localRole: 4,
        peerRole: 4,
        requireRoles: true,
        maxPrefixes: 10,
      });
      const result = await driver.apply({ upsert: [session] });
      expect(result.sessions).toEqual([{ key: session.key, outcome: 'configured', change: 'created' }]);
      await birdDriver.apply({
        upsert: [
          bird.sessionTo(
            { asn: 64501, address: address(3) },
            { secret: 's3cret!', localRole: 4, peerRole: 4 },
          ),
        ],
      });
      const observed = await waitForSession(
        driver,
        session.key,
        (s) => (s?.routes.imported ?? 0) >= 1 && (s?.routes.exported ?? 0) >= 2,
        30_000,
      );
      expect(observed).toMatchObject({ state: 'established', protocol: address(2), routes: { imported: 1 } });
      expect(observed?.routes.exported).toBeGreaterThanOrEqual(2);
      expect(await bird.birdc('show route protocol all')).toBeDefined();
      expect(await frr.show('show bgp ipv4 unicast 198.51.100.0/24')).toMatch(/64500/);

      // Exactly our neighbor and our deny-all route-map were added; nothing else in FRR's configuration moved.
      const after = await running();
      const added = after.split('\n').filter((line) => !before.split('\n').includes(line));
      expect(
        added.every(
          (l) =>
            l.includes(`neighbor ${address(2)} `) ||
            /po-deny-all|^ address-family|^ exit-address-family|^!|^exit/.test(l.trim()) ||
            l.trim() === '',
        ),
      ).toBe(true);
      expect(after).toContain(` neighbor ${address(2)} description po ${session.key}`);
      expect(after).toContain(` neighbor ${address(2)} password s3cret!`);
      expect(after).toContain(` neighbor ${address(2)} local-role peer strict-mode`);
      expect(after).toContain(`  neighbor ${address(2)} maximum-prefix 10 restart 1`);
      expect(before.split('\n').filter((l) => !after.split('\n').includes(l))).toEqual([]);
    }, 60_000);

    it('changes a setting in place: the session is not reset', async () => {
      const ups = (await neighbors())[address(2)]?.connectionsEstablished;
      expect(ups).toBeGreaterThan(0);
      const session = toBird({
        secret: 's3cret!',
        localRole: 4,
        peerRole: 4,
        requireRoles: true,
        maxPrefixes: 20,
      });
      expect((await driver.apply({ upsert: [session] })).sessions[0]).toMatchObject({ change: 'updated' });
      expect(await running()).toContain(`  neighbor ${address(2)} maximum-prefix 20 restart 1`);
      expect(await running()).not.toContain('maximum-prefix 10');
      await new Promise((r) => setTimeout(r, 1_500));
      const now = (await neighbors())[address(2)];
      expect(now).toMatchObject({ bgpState: 'Established', connectionsEstablished: ups });
      // The same again is nothing to do.
      expect((await driver.apply({ upsert: [session] })).sessions[0]).toMatchObject({ change: 'unchanged' });
    }, 30_000);

    it('refuses hostile or impossible sessions by field, leaving FRR untouched', async () => {
      const before = await running();
      await byHand(`neighbor ${address(9)} remote-as 64509`);
      const foreignConfig = await running();
      const bad: [Partial<DesiredSession>, string][] = [
        [{ key: 'k1|pdb:ix:1|a|b', peerIp: address(20), secret: 'two words' }, 'secret'],
        [
          { key: 'k2|pdb:ix:1|a|b', peerIp: address(21), importFilter: 'peer_in\nno router bgp 64501' },
          'importFilter',
        ],
        [{ key: 'k3|pdb:ix:1|a|b', peerIp: address(22), localAsn: 64502 }, 'localAsn'],
        [{ key: 'k4|pdb:ix:1|a|b', peerIp: address(23), localPort: port + 1 }, 'localPort'],
        [{ key: 'k5|pdb:ix:1|a|b', peerIp: address(9) }, 'peerIp'],
        [{ key: 'k6|pdb:ix:1|a|b', peerIp: address(2) }, 'peerIp'],
        [{ key: 'k7|pdb:ix:1|a|b', peerIp: address(24), name: 'x"; no router bgp' }, 'name'],
      ];
      const result = await driver.apply({ upsert: bad.map(([extra]) => toBird(extra)) });
      expect(result.reloaded).toBe(false);
      result.sessions.forEach((outcome, i) => {
        expect(outcome.outcome).toBe('rejected');
        if (outcome.outcome === 'rejected')
          expect(outcome.error.field).toMatch(new RegExp(`\\.${bad[i]![1]}$`));
      });
      expect(await running()).toBe(foreignConfig);
      await byHand(`no neighbor ${address(9)}`);
      expect(await running()).toBe(before);
    }, 30_000);

    it('rolls a batch back whole when FRR refuses a line of it, and says what FRR said', async () => {
      // A directly connected session (no multihop) to which someone added ttl-security by hand: FRR then refuses
      // our change to ebgp-multihop. The batch also creates another session; neither change may stay.
      const direct = toBird({ key: `64500|pdb:ix:1|${address(3)}|${address(30)}`, peerIp: address(30) });
      const plain = new FrrRouterDriver({
        vtySocketDir: frr.dir,
        listenPort: port,
        sessionDefaults: { ...defaults(), multihop: undefined },
      });
      await plain.apply({ upsert: [direct] });
      await byHand(`neighbor ${address(30)} ttl-security hops 1`);
      const before = await running();
      const other = toBird({ key: `64500|pdb:ix:1|${address(3)}|${address(31)}`, peerIp: address(31) });
      await expect(plain.apply({ upsert: [{ ...direct, multihop: 3 }, other] })).rejects.toMatchObject({
        code: 'ROUTER_REJECTED',
        message: expect.stringMatching(
          /ebgp-multihop and ttl-security cannot be configured together.*put back/,
        ),
      });
      expect(await running()).toBe(before);
      // The driver still knows the session as it was: asking for it again changes nothing.
      expect((await plain.apply({ upsert: [direct] })).sessions[0]).toMatchObject({ change: 'unchanged' });
      await plain.apply({ remove: [direct.key] });
      expect(await running()).not.toContain(address(30));
    }, 30_000);

    it('a new driver (an agent restarted) takes over its neighbors without resetting them; sync removes only ours', async () => {
      const session = toBird({
        secret: 's3cret!',
        localRole: 4,
        peerRole: 4,
        requireRoles: true,
        maxPrefixes: 20,
      });
      const ups = (await neighbors())[address(2)]?.connectionsEstablished;
      await byHand(`neighbor ${address(9)} remote-as 64509`);
      const fresh = new FrrRouterDriver({
        vtySocketDir: frr.dir,
        listenPort: port,
        sessionDefaults: defaults(),
      });
      expect((await fresh.observe()).map((s) => s.key)).toEqual([session.key]);
      expect((await fresh.sync([session])).sessions).toEqual([
        { key: session.key, outcome: 'configured', change: 'unchanged' },
      ]);
      await new Promise((r) => setTimeout(r, 1_500));
      expect((await neighbors())[address(2)]).toMatchObject({
        bgpState: 'Established',
        connectionsEstablished: ups,
      });

      const result = await fresh.sync([]);
      expect(result.sessions).toEqual([{ key: session.key, outcome: 'removed', change: 'removed' }]);
      const left = await neighbors();
      expect(Object.keys(left)).toEqual([address(9)]);
      expect(await fresh.observe()).toEqual([]);
    }, 30_000);

    it('reports BGP going down with FRR’s reason, and an unreachable bgpd as ROUTER_UNAVAILABLE', async () => {
      const session = toBird({
        secret: 's3cret!',
        localRole: 4,
        peerRole: 4,
        requireRoles: true,
        maxPrefixes: 20,
      });
      // Another driver removed the session behind this one's back: it says so, and its next resync puts it back.
      expect(await driver.observe()).toEqual([
        expect.objectContaining({ key: session.key, state: 'unknown' }),
      ]);
      expect((await driver.sync([session])).sessions[0]).toMatchObject({ change: 'created' });
      await waitForSession(driver, session.key, 'established', 30_000);
      const [protocol] = (await bird.birdc('show protocols')).match(/po_\S+/) ?? [];
      await bird.birdc(`disable ${protocol}`);
      const down = await waitForSession(driver, session.key, (s) => s?.state !== 'established', 15_000);
      expect(down?.lastError).toMatch(/Cease|Notification|closed|reset/i);
      await frr.stop();
      await expect(driver.observe()).rejects.toMatchObject({ code: 'ROUTER_UNAVAILABLE' });
      await frr.start();
    }, 60_000);
  }),
);
