#!/usr/bin/env node
// Benchmark of the BIRD 2 router driver (issue 7), against a real BIRD started here (unprivileged, loopback).
//   1. render and reload 10,000 sessions into an empty BIRD          target <= 5 s
//   2. one change among them (a resync of all 10,000 with one changed) target <= 1 s
//      and the same change as a batch of one                            target <= 1 s
//   3. observe(): `show protocols all` of 10,000 protocols, read and mapped; and the parse alone
// Sessions are passive towards unused loopback addresses (no BGP traffic), with the options a real session has
// (filters, max-prefix, role, timers), so BIRD parses and compares what it would in production.
//
//   npx tsc -p . && node bench/router-bird.mjs
//   BENCH_SESSIONS=2000 node bench/router-bird.mjs
import { spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { reportFigures, time } from './support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (path) => join(root, 'dist', 'controller', 'src', path);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000);

const { BirdRouterDriver } = await import(dist('router/bird/bird-driver.js'));
const { renderBaseConfig } = await import(dist('router/bird/base-config.js'));
const { BirdControlSocket } = await import(dist('router/bird/control-socket.js'));
const { parseShowProtocols } = await import(dist('router/bird/show-protocols.js'));

// Debian installs into /usr/sbin, which is not on every user's PATH.
const which = spawnSync('sh', ['-c', 'command -v bird || command -v /usr/sbin/bird'], { encoding: 'utf8' });
const birdBinary = which.stdout.trim().split('\n')[0];
if (which.status !== 0 || !birdBinary) {
  console.error('bird is not installed: run scripts/setup.d/20-bird.sh (Debian package bird2)');
  process.exit(1);
}

// A loopback block of our own: 127.A.0.2 is the router, peers are 127.A.x.y.
const a = randomInt(100, 255);
const routerAddress = `127.${a}.0.2`;
const port = randomInt(20000, 30000);
const dir = mkdtempSync(join(tmpdir(), 'bench-bird-'));
const includeDir = join(dir, 'sessions');
mkdirSync(includeDir);
const configPath = join(dir, 'bird.conf');
const socketPath = join(dir, 'bird.ctl');
writeFileSync(
  configPath,
  renderBaseConfig({
    routerId: routerAddress,
    includeDir,
    announce: ['198.51.100.0/24'],
    filters: 'filter peer_in { accept; }\nfilter peer_out { if proto = "announce4" then accept; reject; }\n',
    logFile: join(dir, 'bird.log'),
  }),
);
const bird = spawn(birdBinary, ['-f', '-c', configPath, '-s', socketPath, '-P', join(dir, 'bird.pid')], {
  stdio: 'inherit',
});
const exited = new Promise((resolve) => bird.once('exit', resolve));
const stop = async () => {
  bird.kill('SIGTERM');
  await exited;
  rmSync(dir, { recursive: true, force: true });
};
process.once('SIGINT', () => {
  void stop().then(() => process.exit(130));
});

function session(i, extra = {}) {
  const peer = `127.${a}.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`;
  return {
    key: `${64501 + (i % 1000)}|pdb:ix:${1 + (i % 40)}|${routerAddress}|${peer}`,
    name: `bench session ${i}`,
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
  for (let i = 0; ; i++) {
    try {
      (await BirdControlSocket.open(socketPath, { timeoutMs: 1000 })).close();
      break;
    } catch (error) {
      if (i > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const driver = new BirdRouterDriver({ socketPath, includeDir, commandTimeoutMs: 120_000 });
  const sessions = Array.from({ length: SESSIONS }, (_, i) => session(i));
  const figures = [];

  const initial = await time(`render + reload ${SESSIONS} sessions into an empty BIRD`, () =>
    driver.apply({ upsert: sessions }),
  );
  const created = initial.result.sessions.filter((s) => s.change === 'created').length;
  if (created !== SESSIONS) throw new Error(`expected ${SESSIONS} created, got ${created}`);
  figures.push({ ...initial, target: 5000 });

  const nothing = await time(`resync of ${SESSIONS} unchanged sessions (no reload)`, () =>
    driver.sync(sessions),
  );
  if (nothing.result.reloaded) throw new Error('an unchanged resync reloaded BIRD');
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

  const observed = await time(`observe(): show protocols all + parse + map, ${SESSIONS} sessions`, () =>
    driver.observe(),
  );
  if (observed.result.length !== SESSIONS) throw new Error(`observed ${observed.result.length} sessions`);
  figures.push(observed);

  // The parse alone, on the reply as the socket delivered it.
  const control = await BirdControlSocket.open(socketPath, { timeoutMs: 120_000 });
  const fetched = await time(`show protocols all "po_*" from BIRD (transfer only)`, () =>
    control.command('show protocols all "po_*"'),
  );
  control.close();
  figures.push(fetched);
  const bytes = fetched.result.lines.reduce((sum, line) => sum + line.text.length + 6, 0);
  const runs = 5;
  let parsed = [];
  const parse = await time(
    `parse show protocols all of ${SESSIONS} protocols (mean of ${runs})`,
    async () => {
      for (let i = 0; i < runs; i++) parsed = parseShowProtocols(fetched.result.lines);
    },
  );
  parse.ms /= runs;
  if (parsed.length !== SESSIONS) throw new Error(`parsed ${parsed.length} protocols`);
  figures.push(parse);

  reportFigures(
    `BIRD driver benchmark: ${SESSIONS} sessions, ${(bytes / 1e6).toFixed(1)} MB of show protocols all`,
    figures,
  );
} finally {
  await stop();
}
