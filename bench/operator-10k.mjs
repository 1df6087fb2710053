#!/usr/bin/env node
// Benchmark of the operator (issue 6): 10,000 PeeringSessions created at once on a real kube-apiserver, the
// operator running as its own process (`peering-operator run --kubeconfig`, the chart's RBAC, the recording
// router driver). Prints the time until every session is Configured with its status written, the operator's peak
// RSS, and the operator's Kubernetes API requests per session.
//
//   npm run build && node bench/operator-10k.mjs
//   BENCH_SESSIONS=2000 BENCH_WORKERS=32 node bench/operator-10k.mjs
//   BENCH_CREATE=bare-no-policy node bench/operator-10k.mjs      # see CREATE below
//   BENCH_ROUTER=agents node bench/operator-10k.mjs               # --router agents: one Router, its agent in this
//                                                                  # process (recording driver, its own ServiceAccount)
//
// Targets: all Configured within 60 s, peak RSS at most 300 MiB.
import { controlPlaneBinaries } from './support.mjs';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (path) => join(root, 'dist', path);
const { startControlPlane } = await import(dist('test-support/kube/control-plane.js'));
const { KubeClient } = await import(dist('controller/src/operator/backing/kube/client.js'));
const { KubeResourceCollection } = await import(dist('controller/src/operator/backing/kube/collection.js'));
const { Informer } = await import(dist('controller/src/operator/runtime/informer.js'));
const { PEERING_SESSION } = await import(dist('controller/src/operator/resources/api-group.js'));
// What every install of the chart must say (it has no ASNs, API URL or PeeringDB source of its own).
const { REQUIRED_CONFIG } = await import(dist('controller/test/packaging/helm.js'));
const { chartRbac, routerAgentRbac } = await import(dist('controller/test/operator/support/rbac.js'));
const { RouterAgent } = await import(dist('controller/src/agent/router-agent.js'));
const { RecordingRouterDriver } = await import(dist('controller/src/router/recording.js'));
const { KubeSecretReader } = await import(dist('controller/src/operator/backing/kube/secrets.js'));
const { ROUTER } = await import(dist('controller/src/operator/resources/api-group.js'));
// recording (the operator drives an in-process recording driver) or agents (a Router and its agent).
const ROUTER_MODE = process.env.BENCH_ROUTER === 'agents' ? 'agents' : 'recording';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 32);
const CREATORS = Number(process.env.BENCH_CREATORS ?? 48);
// How the sessions are created (BENCH_CREATE):
// - bare (default): as `kubectl apply` of YAML from git makes them, on a cluster where the chart installed its
//   finalizer policy (a MutatingAdmissionPolicy, rendered here from the chart by helm): the API server puts the
//   de-peering finalizer on at creation, so configuring a session costs the operator one status write;
// - bare-no-policy: the same objects without the policy (Kubernetes before 1.36, or finalizerPolicy: false):
//   the operator adds the finalizer itself, one more write each;
// - operator: as the operator's own writers (the API server, the request reconciler) create them, finalizer on.
const CREATE = process.env.BENCH_CREATE ?? 'bare';
if (!['bare', 'bare-no-policy', 'operator'].includes(CREATE)) {
  throw new Error(`BENCH_CREATE=${CREATE}: use bare, bare-no-policy or operator`);
}
const WITH_FINALIZER = CREATE === 'operator';
// live: the operator runs while the sessions are created (the clock starts at the first create).
// backlog: the sessions exist before the operator starts (the clock starts with the operator): the operator's
// own throughput, without the creation burst competing for the API server.
const MODE = process.env.BENCH_MODE === 'backlog' ? 'backlog' : 'live';
const GROUP = 'peering.autopeer.dev';
const work = mkdtempSync(join(tmpdir(), 'peering-bench-operator-'));

const binaries = controlPlaneBinaries(root);
// The operator runs with the heap limit the chart gives it (values.yaml nodeHeapMiB), unless BENCH_NODE_ARGS says
// otherwise: on this 24 GiB machine V8 would otherwise allow itself 4 GiB and collect lazily.
const chartValues = parse(readFileSync(join(root, 'charts/peering-operator/values.yaml'), 'utf8'));
const NODE_ARGS =
  process.env.BENCH_NODE_ARGS !== undefined
    ? process.env.BENCH_NODE_ARGS.split(' ').filter(Boolean)
    : [`--max-old-space-size=${chartValues.nodeHeapMiB}`];

const DESCRIPTION = {
  bare: "created bare, the finalizer put on by the chart's admission policy",
  'bare-no-policy': 'created bare, no admission policy: the operator adds the finalizer',
  operator: "created with the finalizer, as the operator's own writers do",
};

/**
 * The chart's finalizer policy for `namespace`, as `helm install` renders it on a cluster that serves
 * MutatingAdmissionPolicy; waits until the API server applies it (a server-side dry run shows the finalizer).
 */
async function installFinalizerPolicy(namespace) {
  const helm = spawnSync('bash', [join(root, 'scripts/setup.d/30-helm.sh')], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .pop();
  const rendered = spawnSync(
    helm,
    [
      'template',
      'bench',
      join(root, 'charts/peering-operator'),
      '--namespace',
      namespace,
      '--api-versions',
      'admissionregistration.k8s.io/v1/MutatingAdmissionPolicy',
      // The chart has no default router (issue 15) nor network (issue 16); only the finalizer policy is rendered here.
      '--set',
      'router.driver=none',
      '--set-json',
      `config=${JSON.stringify(REQUIRED_CONFIG)}`,
      '--show-only',
      'templates/finalizer-policy.yaml',
    ],
    { encoding: 'utf8' },
  );
  if (rendered.status !== 0) throw new Error(`helm template failed: ${rendered.stderr}`);
  writeFileSync(join(work, 'finalizer-policy.yaml'), rendered.stdout);
  await plane.kubectl(['apply', '-f', join(work, 'finalizer-policy.yaml')]);
  const probe = join(work, 'probe.yaml');
  writeFileSync(
    probe,
    stringify({
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'PeeringSession',
      metadata: { name: 'probe', namespace },
      spec: {
        direction: 'Inbound',
        sessionId: '00000000-0000-4000-8000-ffffffffffff',
        localAsn: 64500,
        localIp: '10.99.0.1',
        peerAsn: 64501,
        peerIp: '10.99.0.2',
        peerType: 'public',
        location: { id: 'pdb:ix:1', type: 'public' },
      },
    }),
  );
  for (let i = 0; ; i++) {
    // Refused until the API server serves the new CRDs; without the finalizer until the policy is loaded.
    const stdout = await plane
      .kubectl(['create', '--dry-run=server', '-f', probe, '-o', 'jsonpath={.metadata.finalizers}'])
      .then(
        (r) => r.stdout,
        () => '',
      );
    if (stdout.includes(`${GROUP}/de-peer`)) return;
    if (i > 100) throw new Error('the finalizer policy did not take effect within 20 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const plane = await startControlPlane({
  crds: join(root, 'crds'),
  source: { kind: 'binaries', dir: binaries, origin: 'cache' },
});
let operator;
try {
  const namespace = await plane.newNamespace('bench');
  // The operator's permissions: exactly the chart's rules file, bound to its ServiceAccount.
  const objects = [...chartRbac(namespace), ...(ROUTER_MODE === 'agents' ? routerAgentRbac(namespace) : [])];
  if (ROUTER_MODE === 'agents') {
    // One Router speaking from every session's local address (10.x.y.1).
    objects.push({
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'Router',
      metadata: { name: 'bench', namespace },
      spec: { driver: 'bird', addresses: ['10.0.0.0/8'] },
    });
  }
  writeFileSync(join(work, 'rbac.yaml'), objects.map((o) => stringify(o)).join('---\n'));
  await plane.kubectl(['apply', '-f', join(work, 'rbac.yaml')]);
  if (CREATE === 'bare') await installFinalizerPolicy(namespace);
  const operatorKubeConfig = await plane.serviceAccountKubeConfig(namespace, 'peering-operator');
  writeFileSync(join(work, 'kubeconfig'), operatorKubeConfig.exportConfig(), { mode: 0o600 });
  writeFileSync(
    join(work, 'config.yaml'),
    stringify({
      asns: [64500],
      apiUrl: 'http://127.0.0.1/v0.1',
      listen: '127.0.0.1:0',
      peeringdb: { dataDir: join(root, 'examples/peeringdb') },
      store: { dataDir: join(work, 'data') },
    }),
  );

  const healthPort = 20_000 + Math.floor(Math.random() * 20_000);
  const health = `http://127.0.0.1:${healthPort}`;
  const startOperator = async () => {
    operator = spawn(
      process.execPath,
      [
        ...NODE_ARGS,
        dist('controller/src/cli/peering-operator.js'),
        'run',
        '--config',
        join(work, 'config.yaml'),
        '--kubeconfig',
        join(work, 'kubeconfig'),
        '--watch-namespace',
        namespace,
        '--inbound-namespace',
        namespace,
        '--router',
        ROUTER_MODE,
        '--health-listen',
        `127.0.0.1:${healthPort}`,
        '--workers',
        String(WORKERS),
        '--log-level',
        'error',
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    for (let i = 0; ; i++) {
      if (i > 600) throw new Error('the operator did not become ready');
      const ready = await fetch(`${health}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const kubeRequests = async () => {
    const text = await (await fetch(`${health}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('peering_operator_kube_api_requests_total{'))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  };
  // Peak RSS of the operator process, from the kernel's own high-water mark.
  const rssOf = (field) => {
    const status = readFileSync(`/proc/${operator.pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  };

  // Watch as the admin, through the operator's own informer (it re-watches when the API server drops a watcher
  // that fell behind, which a burst of 10,000 creations does): which sessions have Configured=True.
  const admin = await KubeClient.connect(plane.kubeConfig, { connections: CREATORS + 4 });
  const path = `/apis/${GROUP}/v1alpha1/namespaces/${namespace}/peeringsessions`;
  const configured = new Set();
  let allConfigured;
  const done = new Promise((resolve) => (allConfigured = resolve));
  const informer = new Informer(new KubeResourceCollection(admin, PEERING_SESSION), { namespace });
  informer.on((_event, object) => {
    const ok = object.status?.conditions?.some((c) => c.type === 'Configured' && c.status === 'True');
    if (ok) configured.add(object.metadata.name);
    if (configured.size === SESSIONS) allConfigured(Date.now());
  });

  let next = 0;
  const creator = async () => {
    for (;;) {
      const i = next++;
      if (i >= SESSIONS) return;
      const third = Math.floor(i / 250);
      const fourth = (i % 250) + 1;
      await admin.request('POST', path, {
        body: {
          apiVersion: `${GROUP}/v1alpha1`,
          kind: 'PeeringSession',
          metadata: {
            name: `bench-${i}`,
            namespace,
            annotations: { [`${GROUP}/initial-state`]: 'approved' },
            ...(WITH_FINALIZER ? { finalizers: [`${GROUP}/de-peer`] } : {}),
          },
          spec: {
            direction: 'Inbound',
            sessionId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
            localAsn: 64500,
            localIp: `10.${100 + third}.${fourth}.1`,
            peerAsn: 64501,
            peerIp: `10.${100 + third}.${fourth}.2`,
            peerType: 'public',
            location: { id: 'pdb:ix:1', type: 'public' },
          },
        },
      });
    }
  };
  const createAll = async () => {
    const begun = Date.now();
    await Promise.all(Array.from({ length: CREATORS }, creator));
    return Date.now() - begun;
  };

  let creationMs;
  if (MODE === 'backlog') creationMs = await createAll();
  const operatorStarted = Date.now();
  await startOperator();
  let agent;
  let agentKube;
  if (ROUTER_MODE === 'agents') {
    agentKube = await KubeClient.connect(
      await plane.serviceAccountKubeConfig(namespace, 'peering-router-agent'),
    );
    agent = new RouterAgent(
      {
        sessions: new KubeResourceCollection(agentKube, PEERING_SESSION),
        routers: new KubeResourceCollection(agentKube, ROUTER),
        secrets: new KubeSecretReader(agentKube),
        driver: new RecordingRouterDriver(),
      },
      { router: 'bench', namespace, driverKind: 'bird', identity: 'bench-agent' },
    );
    await agent.start();
  }
  const requestsBefore = await kubeRequests();
  const rssBefore = rssOf('VmRSS');
  let rssPeakSeen = rssBefore;
  const sampler = setInterval(() => (rssPeakSeen = Math.max(rssPeakSeen, rssOf('VmRSS'))), 200);
  informer.start();
  await informer.waitForSync();
  const started = MODE === 'backlog' ? operatorStarted : Date.now();
  const progress = setInterval(
    () =>
      console.error(
        `  ${configured.size} of ${SESSIONS} configured after ${((Date.now() - started) / 1000).toFixed(0)} s`,
      ),
    5_000,
  );
  if (MODE === 'live') creationMs = await createAll();
  const created = Date.now();
  const timeout = setTimeout(
    () => allConfigured(undefined),
    Number(process.env.BENCH_TIMEOUT_S ?? 300) * 1000,
  );
  const finished = await done;
  clearTimeout(timeout);
  clearInterval(progress);
  clearInterval(sampler);
  informer.stop();
  const requests = (await kubeRequests()) - requestsBefore;
  const peak = Math.max(rssPeakSeen, rssOf('VmHWM'));
  // utime + stime of the operator process, in clock ticks (100 a second on Linux).
  const cpuSeconds = (() => {
    const fields = readFileSync(`/proc/${operator.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  })();
  await admin.close();
  await agent?.stop();
  await agentKube?.close();

  const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
  const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `sessions:                      ${SESSIONS} (${MODE}, router ${ROUTER_MODE}; session workers ${WORKERS}, ` +
      `${CREATORS} creating at once, ` +
      `${DESCRIPTION[CREATE]})`,
  );
  console.log(`creating them took:            ${seconds(creationMs)}`);
  console.log(
    finished === undefined
      ? `all Configured:                NOT in time (${configured.size} configured)`
      : MODE === 'live'
        ? `all Configured after:          ${seconds(finished - started)} from the first create (target <= 60 s), ` +
          `${seconds(finished - created)} after the last`
        : `all Configured after:          ${seconds(finished - started)} from the operator's start (target <= 60 s)`,
  );
  console.log(`operator CPU time:             ${cpuSeconds.toFixed(1)} s (user + system, whole run)`);
  console.log(
    `operator peak RSS:             ${mib(peak)} (target <= 300 MiB; ${mib(rssBefore)} when ready; ` +
      `node ${NODE_ARGS.join(' ') || 'with no options'})`,
  );
  console.log(
    `operator API requests:         ${requests} = ${(requests / SESSIONS).toFixed(2)} per session ` +
      `(${CREATE === 'bare-no-policy' ? 'finalizer + status' : 'the status write'}; the operator reads from its watch cache)`,
  );
} finally {
  if (operator && operator.exitCode === null) {
    operator.kill('SIGTERM');
    await new Promise((r) => operator.once('exit', r));
  }
  await plane.stop();
  rmSync(work, { recursive: true, force: true });
}
