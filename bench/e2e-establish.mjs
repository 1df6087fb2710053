#!/usr/bin/env node
// Benchmark of the end-to-end peering (issue 7): AS64500 and AS64501 on this machine, each with a real BIRD on its
// own loopback address and its own operator (the demo's lab: controller/src/demo/two-networks.ts, test BGP timers,
// JWTs from the local issuer). Each round applies AS64500's PeeringRequest and times
//   accepted   the session exists on both sides (POST /sessions answered)
//   bgp        BIRD reports Established on both routers (`show protocols`)
//   reported   both operators report the session `established` on their resources
// then deletes the request and times the de-peering (the protocol gone from both BIRDs, the resources gone).
//
//   npx tsc -p . && node bench/e2e-establish.mjs                  # standalone (embedded SQLite stores)
//   BENCH_ROUNDS=10 node bench/e2e-establish.mjs
//   node bench/e2e-establish.mjs --kubernetes                     # each operator on a real kube-apiserver
//
// Target: apply → established (reported by both operators) within 15 s.
import { controlPlaneBinaries } from './support.mjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (path) => join(root, 'dist', path);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const KUBERNETES = process.argv.includes('--kubernetes');
const TARGET_MS = 15_000;

const { startTwoNetworks } = await import(dist('controller/src/demo/two-networks.js'));
const { findBirdBinary } = await import(dist('controller/src/router/bird/bird-process.js'));
const { parseShowProtocols } = await import(dist('controller/src/router/bird/show-protocols.js'));
if (findBirdBinary() === undefined) {
  console.error('bird is not installed: run scripts/setup.d/20-bird.sh (Debian package bird2)');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'peering-bench-e2e-'));
let plane;
let lab;
try {
  let operators = 'embedded';
  if (KUBERNETES) {
    const { startControlPlane } = await import(dist('test-support/kube/control-plane.js'));
    const { KubeClient } = await import(dist('controller/src/operator/backing/kube/client.js'));
    const { kubernetesBacking } = await import(dist('controller/src/operator/backing/backing.js'));
    const { chartRbac } = await import(dist('controller/test/operator/support/rbac.js'));
    const binaries = controlPlaneBinaries(root);
    plane = await startControlPlane({
      crds: join(root, 'crds'),
      source: { kind: 'binaries', dir: binaries, origin: 'cache' },
    });
    const kubectlApply = async (objects) => {
      const file = join(work, `apply-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
      await plane.kubectl(['apply', '-f', file]);
    };
    // Each operator as its ServiceAccount with exactly the chart's rules (never as an administrator).
    operators = async (network) => {
      const namespace = await plane.newNamespace(`as${network.asn}`);
      await kubectlApply(chartRbac(namespace));
      const kube = await KubeClient.connect(
        await plane.serviceAccountKubeConfig(namespace, 'peering-operator'),
      );
      return {
        backing: kubernetesBacking(kube),
        namespace,
        putSecret: (name, data) =>
          kubectlApply([
            { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: data },
          ]),
        applyRequest: (request) => kubectlApply([request]),
        deleteRequest: (name) =>
          plane.kubectl(['delete', 'peeringrequest', name, '-n', namespace, '--wait=false']),
      };
    };
  }
  lab = await startTwoNetworks({ workDir: work, examplesDir: join(root, 'examples'), operators });
  const { a, b } = lab;

  const protocols = async (network) =>
    parseShowProtocols((await network.bird.command('show protocols all "po_*"')).lines).filter(
      (p) => p.proto === 'BGP',
    );
  const sessions = async (network) =>
    (await network.backing.backing.sessions.list({ namespace: network.backing.namespace })).items;
  const until = async (check, what, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check().catch(() => false)) return performance.now();
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  console.log(
    `end-to-end peering on ${KUBERNETES ? 'Kubernetes (real kube-apiserver)' : 'the embedded store (standalone)'}, ${ROUNDS} rounds`,
  );
  console.log('round  accepted   bgp up   reported   de-peered');
  const rows = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const t0 = performance.now();
    await lab.apply();
    const accepted = await until(
      async () => (await sessions(a)).length === 1 && (await sessions(b)).length === 1,
      'acceptance',
    );
    const bgp = await until(async () => {
      const [x, y] = await Promise.all([protocols(a), protocols(b)]);
      return x[0]?.bgpState === 'Established' && y[0]?.bgpState === 'Established';
    }, 'BGP Established');
    const reported = await until(async () => {
      const all = [...(await sessions(a)), ...(await sessions(b))];
      return all.length === 2 && all.every((s) => s.status?.state === 'established');
    }, 'both operators reporting established');
    const t1 = performance.now();
    await lab.remove();
    const removed = await until(
      async () =>
        (await protocols(a)).length === 0 &&
        (await protocols(b)).length === 0 &&
        (await sessions(a)).length === 0 &&
        (await sessions(b)).length === 0,
      'de-peering',
    );
    const row = { accepted: accepted - t0, bgp: bgp - t0, reported: reported - t0, removed: removed - t1 };
    rows.push(row);
    const s = (ms) => `${(ms / 1000).toFixed(2)} s`.padStart(9);
    console.log(
      `${String(round).padStart(5)}  ${s(row.accepted)} ${s(row.bgp)} ${s(row.reported)}  ${s(row.removed)}`,
    );
  }
  const median = (key) => {
    const sorted = rows.map((r) => r[key]).sort((x, y) => x - y);
    return sorted[Math.floor(sorted.length / 2)];
  };
  const worst = Math.max(...rows.map((r) => r.reported));
  console.log(
    `apply → established (both operators): median ${(median('reported') / 1000).toFixed(2)} s, worst ${(worst / 1000).toFixed(2)} s ` +
      `(target ≤ ${TARGET_MS / 1000} s: ${worst <= TARGET_MS ? 'met' : 'MISSED'}); BGP up median ${(median('bgp') / 1000).toFixed(2)} s; ` +
      `de-peering median ${(median('removed') / 1000).toFixed(2)} s`,
  );
  process.exitCode = worst <= TARGET_MS ? 0 : 1;
} finally {
  await lab?.stop();
  await plane?.stop();
  rmSync(work, { recursive: true, force: true });
}
