#!/usr/bin/env node
// Benchmark of the FRR router driver (issue 15), against real bgpd instances started here (loopback, no zebra).
//   1. render and apply 10,000 sessions into an empty FRR                  target <= 10 s
//      baseline: the same configuration loaded by vtysh -f alone into a second empty FRR (FRR's own ceiling)
//   2. one change among them (a resync of all 10,000 with one changed)     target <= 1 s
//      and the same change as a batch of one                               target <= 1 s
//   3. observe(): show bgp neighbors json of 10,000 neighbors, read and mapped
// Sessions are passive towards unused loopback addresses (no BGP traffic), with the options a real session has
// (route-maps, max-prefix, role, timers), so FRR parses and stores what it would in production. No MD5 secrets, as in
// the BIRD benchmark: Linux keeps every TCP MD5 key on the listening socket in option memory
// (net.core.optmem_max, 20 KiB by default: a few hundred keys), which a router with thousands of MD5 sessions
// must raise whatever its daemon.
//
//   npx tsc -p . && node bench/router-frr.mjs
//   BENCH_SESSIONS=2000 node bench/router-frr.mjs
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { reportFigures, time } from './support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (path) => join(root, 'dist', 'controller', 'src', path);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000);

const { FrrRouterDriver } = await import(dist('router/frr/frr-driver.js'));
const { FrrProcess, findFrr } = await import(dist('router/frr/frr-process.js'));
const { configScript, neighborConfig } = await import(dist('router/frr/render.js'));

if (!findFrr()) {
  console.error('FRR is not installed: run scripts/setup.d/21-frr.sh (Debian package frr)');
  process.exit(1);
}

const a = randomInt(100, 255);
const routerAddress = `127.${a}.0.2`;
const port = randomInt(20000, 30000);
const dir = mkdtempSync(join(tmpdir(), 'bench-frr-'));
const policy = 'route-map peer_in permit 10\nexit\nroute-map peer_out permit 10\nexit\n';
const start = (name, address) =>
  FrrProcess.start({
    name,
    dir: join(dir, name),
    asn: 64500,
    address,
    port,
    policy,
    announce: ['198.51.100.0/24'],
  });
const frr = await start('frr', routerAddress);
const baseline = await start('frr-baseline', `127.${a}.0.3`);
const stop = async () => {
  await Promise.all([frr.stop(), baseline.stop()]);
  rmSync(dir, { recursive: true, force: true });
};
process.once('SIGINT', () => void stop().then(() => process.exit(130)));

function session(i, extra = {}) {
  const peer = `127.${a}.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`;
  return {
    key: `${64501 + (i % 1000)}|pdb:ix:${1 + (i % 40)}|${routerAddress}|${peer}`,
    localAsn: 64500,
    localIp: routerAddress,
    peerAsn: 64501 + (i % 1000),
    peerIp: peer,
    localRole: 4,
    peerRole: 4,
    maxPrefixes: 100 + (i % 900),
    importFilter: 'peer_in',
    exportFilter: 'peer_out',
    passive: true,
    localPort: port,
    peerPort: port,
    multihop: 2,
    timers: { hold: 90, keepalive: 30 },
    ...extra,
  };
}

try {
  const driver = new FrrRouterDriver({ vtySocketDir: frr.dir, listenPort: port, timeoutMs: 600_000 });
  const sessions = Array.from({ length: SESSIONS }, (_, i) => session(i));
  const figures = [];

  const script = configScript(
    64500,
    sessions.map((s) => ({ after: neighborConfig({ ...s, localIp: `127.${a}.0.3` }) })),
  );
  const raw = await time(`baseline: vtysh -f of the same ${SESSIONS} neighbors (FRR alone)`, () =>
    baseline.vtysh.script(script),
  );
  if (!raw.result.ok) throw new Error(`the baseline script was refused: ${raw.result.errors[0]}`);
  figures.push(raw);
  // Its thousands of idle neighbors keep timers running: stopped, so that the two runs do not share the CPU.
  await baseline.stop();

  const initial = await time(`render + apply ${SESSIONS} sessions into an empty FRR`, () =>
    driver.apply({ upsert: sessions }),
  );
  const created = initial.result.sessions.filter((s) => s.change === 'created').length;
  if (created !== SESSIONS) throw new Error(`expected ${SESSIONS} created, got ${created}`);
  figures.push({ ...initial, target: 10_000 });

  const nothing = await time(`resync of ${SESSIONS} unchanged sessions (nothing sent)`, () =>
    driver.sync(sessions),
  );
  if (nothing.result.reloaded) throw new Error('an unchanged resync sent configuration');
  figures.push(nothing);

  const changedIndex = Math.floor(SESSIONS / 2);
  const oneChanged = sessions.map((s, i) => (i === changedIndex ? { ...s, maxPrefixes: 5 } : s));
  const resync = await time(`one change among ${SESSIONS} (resync of all)`, () => driver.sync(oneChanged));
  const updated = resync.result.sessions.filter((s) => s.change === 'updated').length;
  if (updated !== 1) throw new Error(`expected 1 updated, got ${updated}`);
  figures.push({ ...resync, target: 1000 });

  const single = await time(`one change among ${SESSIONS} (batch of one)`, () =>
    driver.apply({ upsert: [{ ...oneChanged[changedIndex], maxPrefixes: 6 }] }),
  );
  figures.push({ ...single, target: 1000 });

  const observed = await time(`observe(): show bgp neighbors json + map, ${SESSIONS} sessions`, () =>
    driver.observe(),
  );
  if (observed.result.length !== SESSIONS) throw new Error(`observed ${observed.result.length} sessions`);
  figures.push(observed);

  reportFigures(
    `FRR driver benchmark: ${SESSIONS} sessions, ${(script.length / 1e6).toFixed(1)} MB of configuration`,
    figures,
  );
} finally {
  await stop();
}
