#!/usr/bin/env node
// Benchmark of the Terraform constructs (issue 8): `cdktf synth` of 1 / 100 / 1,000 sessions, and
// `terraform plan` of the 1,000-session configuration. Uses the compiled constructs and the real terraform.
//
//   npm run build && node bench/terraform-synth.mjs
//   BENCH_SESSIONS=2000 BENCH_APPLIED=1 node bench/terraform-synth.mjs
//
// BENCH_APPLIED=1 also applies the configuration (with `true` in place of peeringctl, so no API is needed) and
// times the day-2 plans: 1,000 sessions in state with nothing changed, and with one session changed.
// Each figure is wall time and CPU time (user + system, children included): on a shared machine the wall
// time also measures the neighbours, the CPU time does not.
// Targets on the 2-core machine: synth of 1,000 sessions <= 2 s; terraform plan of 1,000 sessions <= 15 s.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'provider', 'src', 'index.js');
if (!existsSync(compiled)) {
  console.error(`${compiled} is missing: run npm run build first`);
  process.exit(1);
}
const { App, LocalBackend, TerraformStack } = await import('cdktf');
const { PeeringRequest } = await import(compiled);

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1000);
const TERRAFORM = process.env.PEERING_TERRAFORM ?? 'terraform';
const TARGET_SYNTH_S = 2;
const TARGET_PLAN_S = 15;

/**
 * `count` sessions, as a network with many peers declares them: one PeeringRequest per peer (documentation
 * ASNs from 64501 up), at most 100 sessions each, at 100 exchanges, distinct addresses, roles, a token
 * variable per peer.
 */
function declare(stack, count, { changed = -1, peeringctl } = {}) {
  for (let peer = 0; peer * 100 < count; peer += 1) {
    const size = Math.min(100, count - peer * 100);
    new PeeringRequest(stack, `as${64501 + peer}`, {
      localAsn: 64500,
      peerAsn: 64501 + peer,
      apiUrl: `https://peering.as${64501 + peer}.example/v0.1`,
      tokenEnv: `PEERING_TOKEN_AS${64501 + peer}`,
      peeringctl,
      sessions: Array.from({ length: size }, (_, i) => {
        const n = peer * 100 + i;
        return {
          name: `ix${i + 1}-v4`,
          location: `pdb:ix:${i + 1}`,
          localIp: `10.${(n >> 8) & 255}.${n & 255}.1`,
          peerIp: `10.${(n >> 8) & 255}.${n & 255}.${n === changed ? 3 : 2}`,
          localBgpRole: 4,
          peerBgpRole: 4,
        };
      }),
    });
  }
}

/** Builds the app and writes cdk.tf.json, as `cdktf synth` runs it. */
function synth(count, options) {
  const outdir = mkdtempSync(join(tmpdir(), 'peering-bench-synth-'));
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'peering');
  // cdktf's default state path is in the current directory (the checkout); keep the state in the temp folder.
  new LocalBackend(stack, { path: options?.statePath ?? join(outdir, 'terraform.tfstate') });
  declare(stack, count, options);
  app.synth();
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1e6, dir: join(outdir, 'stacks', 'peering'), outdir };
}

/** Runs terraform under /usr/bin/time for its CPU time; exit 2 (plan with changes) counts as success. */
function terraform(dir, args) {
  const stats = join(dir, '.time');
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', stats, TERRAFORM, ...args, '-no-color'], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: {
      ...process.env,
      TF_CLI_CONFIG_FILE: join(dir, '.terraformrc'),
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      CHECKPOINT_DISABLE: '1',
      // The create commands look up each peer's token variable (tokenEnv) before they run.
      ...Object.fromEntries(
        Array.from({ length: Math.ceil(SESSIONS / 100) }, (_, p) => [
          `PEERING_TOKEN_AS${64501 + p}`,
          'bench',
        ]),
      ),
    },
  });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0 && result.status !== 2) {
    throw new Error(
      `terraform ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  const [user = 0, system = 0] = readFileSync(stats, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + system, stdout: result.stdout };
}

const fmt = (run) => `${run.wall.toFixed(2)} s wall, ${run.cpu.toFixed(2)} s CPU`;
const verdict = (run, target) =>
  run.wall <= target ? `ok (target <= ${target} s)` : `OVER TARGET on wall time (<= ${target} s)`;
const cleanup = [];

try {
  const version = spawnSync(TERRAFORM, ['version'], {
    encoding: 'utf8',
    env: { ...process.env, TF_CLI_CONFIG_FILE: '' },
  });
  console.log(
    `terraform-synth benchmark: node ${process.version}, ${version.stdout.split('\n')[0]}, ${cpus().length} cores, ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  for (const count of [1, 100, SESSIONS]) {
    // The first run is what `cdktf synth` costs (a fresh process); the third shows the warmed-up figure.
    const runs = [synth(count), synth(count), synth(count)];
    cleanup.push(...runs.map((r) => r.outdir));
    const line = `synth ${String(count).padStart(5)} sessions: first ${fmt(runs[0])}; third ${fmt(runs[2])}`;
    console.log(count === SESSIONS ? `${line}  ${verdict(runs[0], TARGET_SYNTH_S)}` : line);
  }

  const { dir, outdir } = synth(SESSIONS, { peeringctl: ['true'] });
  cleanup.push(outdir);
  writeFileSync(join(dir, '.terraformrc'), '');
  console.log(`terraform init: ${fmt(terraform(dir, ['init']))}`);
  const plan = terraform(dir, ['plan', '-out=plan.tfplan']);
  const planned = /Plan: .*/.exec(plan.stdout)?.[0];
  console.log(
    `terraform plan ${SESSIONS} sessions, empty state (${planned}): ${fmt(plan)}  ${verdict(plan, TARGET_PLAN_S)}`,
  );

  if (process.env.BENCH_APPLIED === '1') {
    console.log(
      `terraform apply ${SESSIONS} sessions (no-op commands): ${fmt(terraform(dir, ['apply', 'plan.tfplan']))}`,
    );
    const same = terraform(dir, ['plan', '-detailed-exitcode']);
    console.log(
      `terraform plan ${SESSIONS} sessions in state, no change: ${fmt(same)}  ${verdict(same, TARGET_PLAN_S)}`,
    );
    const changed = synth(SESSIONS, {
      peeringctl: ['true'],
      changed: 0,
      statePath: join(outdir, 'terraform.tfstate'),
    });
    cleanup.push(changed.outdir);
    copyFileSync(join(changed.dir, 'cdk.tf.json'), join(dir, 'cdk.tf.json'));
    const day2 = terraform(dir, ['plan']);
    const summary = /Plan: .*/.exec(day2.stdout)?.[0];
    console.log(
      `terraform plan ${SESSIONS} sessions in state, one changed (${summary}): ${fmt(day2)}  ${verdict(day2, TARGET_PLAN_S)}`,
    );
  }
} finally {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
}
