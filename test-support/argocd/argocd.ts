import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freeLoopbackPorts, type ControlPlane } from '../kube/control-plane.js';
import { sleep, startSupervisedProcess, type SupervisedProcess } from '../kube/supervised-process.js';

const BUILD_SCRIPT = join(import.meta.dirname, 'build.sh');
export const ARGOCD_NAMESPACE = 'argocd';

/** The folder build.sh fills (binary, manifests, wrapper scripts), or why there is none. */
export function findArgoCd(): { dir: string } | { unavailable: string } {
  const printed = spawnSync('bash', [BUILD_SCRIPT, '--print-dir'], { encoding: 'utf8' });
  const dir = printed.stdout.trim();
  if (printed.status !== 0 || dir === '') return { unavailable: `${BUILD_SCRIPT} --print-dir failed` };
  if (spawnSync('bash', [BUILD_SCRIPT, '--check']).status !== 0)
    return { unavailable: `Argo CD is not built in ${dir}: run scripts/setup.d/32-argocd.sh` };
  if (spawnSync('redis-server', ['--version']).status !== 0)
    return { unavailable: 'redis-server is not installed: run scripts/setup.d/32-argocd.sh' };
  return { dir };
}

export interface ArgoApplicationState {
  sync?: string;
  /** The git commit the sync status compares against. */
  revision?: string;
  health?: string;
  message?: string;
  operationPhase?: string;
  operationMessage?: string;
  conditions?: { type: string; message: string }[];
  /** Each resource the Application manages, with its sync status and (where Argo CD assesses it) its health. */
  resources?: ArgoResourceState[];
}

export interface ArgoResourceState {
  kind: string;
  name: string;
  namespace?: string;
  status?: string;
  health?: { status?: string; message?: string };
}

export interface RunningArgoCd {
  /** What a git server's webhook makes Argo CD do on a push: look at the repository again now (hard refresh). */
  refresh(name: string): Promise<void>;
  /**
   * What the same webhook makes the ApplicationSet controller do: generate the ApplicationSet's Applications again
   * now, from the repository as it is (the refresh annotation also bypasses the repo server's revision cache).
   */
  refreshSet(name: string): Promise<void>;
  /** Argo CD's view of an Application: sync status, health and their messages. */
  application(name: string): Promise<ArgoApplicationState | undefined>;
  logTail(): string;
  stop(): Promise<void>;
}

async function waitForPort(
  port: number,
  what: string,
  process: SupervisedProcess,
  ms = 60_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (process.hasExited() || Date.now() > deadline)
      throw new Error(`${what} did not listen on ${port}:\n${process.logTail(30)}`);
    await sleep(200);
  }
}

/**
 * Argo CD's application controller and repo server, out of cluster, against the test's API server, as Argo CD's
 * own development setup runs them: `ARGOCD_FAKE_IN_CLUSTER` makes the in-cluster destination
 * (`https://kubernetes.default.svc`) the kubeconfig's cluster; redis on a port of its own; the repo server reads
 * `file://` git repositories. Installs Argo CD's CRDs and base ConfigMaps in namespace `argocd`, the default
 * AppProject, and `argocdCm` into argocd-cm (our health checks).
 */
export async function startArgoCd(
  plane: ControlPlane,
  options: {
    dir: string;
    workDir: string;
    argocdCm: Record<string, string>;
    /** Folders put first on the PATH of Argo CD's processes: the repo server runs `helm` from there for charts. */
    path?: readonly string[];
  },
): Promise<RunningArgoCd> {
  const { dir, workDir } = options;
  mkdirSync(workDir, { recursive: true });
  await plane.installCRDs(
    readdirSync(join(dir, 'manifests/crds'))
      .filter((f) => f.endsWith('-crd.yaml'))
      .map((f) => join(dir, 'manifests/crds', f)),
  );
  await plane.kubectl(['create', 'namespace', ARGOCD_NAMESPACE]).catch(() => undefined);
  const configs = readdirSync(join(dir, 'manifests/config'))
    .filter((f) => f !== 'kustomization.yaml')
    .map((f) => {
      const object = parse(readFileSync(join(dir, 'manifests/config', f), 'utf8')) as {
        metadata: { name: string };
        data?: Record<string, string>;
      };
      // Look at git and the Applications every few seconds: the tests wait on them, not on a 3-minute poll.
      if (object.metadata.name === 'argocd-cm')
        object.data = {
          ...object.data,
          'timeout.reconciliation': '5s',
          'timeout.reconciliation.jitter': '0s',
          ...options.argocdCm,
        };
      return object;
    });
  const project = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: 'default' },
    spec: {
      sourceRepos: ['*'],
      destinations: [{ server: '*', namespace: '*' }],
      clusterResourceWhitelist: [{ group: '*', kind: '*' }],
    },
  };
  const manifest = join(workDir, 'argocd-install.yaml');
  writeFileSync(manifest, [...configs, project].map((o) => stringify(o)).join('---\n'));
  await plane.kubectl([
    'apply',
    '-n',
    ARGOCD_NAMESPACE,
    '--server-side',
    '--force-conflicts',
    '-f',
    manifest,
  ]);

  // The admin kubeconfig, its context in namespace argocd (where the controller looks for Applications).
  const kubeconfig = join(workDir, 'kubeconfig');
  const config = parse(plane.kubeConfig.exportConfig()) as {
    contexts: { context: { namespace?: string } }[];
  };
  for (const c of config.contexts) c.context.namespace = ARGOCD_NAMESPACE;
  writeFileSync(kubeconfig, stringify(config), { mode: 0o600 });

  const ports = await freeLoopbackPorts([
    'redis',
    'repo',
    'repoMetrics',
    'controllerMetrics',
    'commit',
    'setMetrics',
    'setProbe',
    'setWebhook',
  ]);
  const binary = join(dir, 'bin/argocd');
  const env = [
    `PATH=${[...(options.path ?? []), join(dir, 'hack'), process.env['PATH'] ?? '/usr/bin:/bin'].join(':')}`,
    `HOME=${workDir}`,
    `KUBECONFIG=${kubeconfig}`,
    'ARGOCD_FAKE_IN_CLUSTER=true',
    'ARGOCD_GPG_ENABLED=false',
    `ARGOCD_TLS_DATA_PATH=${join(workDir, 'tls')}`,
    `ARGOCD_SSH_DATA_PATH=${join(workDir, 'ssh')}`,
    `ARGOCD_GNUPGHOME=${join(workDir, 'gnupg')}`,
    `TMPDIR=${join(workDir, 'tmp')}`,
  ];
  for (const d of ['tls', 'ssh', 'gnupg', 'tmp']) mkdirSync(join(workDir, d), { recursive: true });
  const started: SupervisedProcess[] = [];
  const stop = async () => {
    for (const p of started.reverse()) await p.stop(5_000);
  };
  try {
    const redis = startSupervisedProcess(
      'redis',
      'redis-server',
      ['--port', String(ports.redis), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      join(workDir, 'redis.log'),
    );
    started.push(redis);
    await waitForPort(ports.redis, 'redis', redis);
    const redisAddress = `127.0.0.1:${ports.redis}`;
    const repoServer = startSupervisedProcess(
      'argocd-repo-server',
      '/usr/bin/env',
      [
        ...env,
        'ARGOCD_BINARY_NAME=argocd-repo-server',
        binary,
        '--address',
        '127.0.0.1',
        '--port',
        String(ports.repo),
        '--metrics-port',
        String(ports.repoMetrics),
        '--redis',
        redisAddress,
        '--disable-tls',
        '--client-ca-path',
        '',
        '--loglevel',
        'warn',
      ],
      join(workDir, 'repo-server.log'),
    );
    started.push(repoServer);
    await waitForPort(ports.repo, 'the repo server', repoServer);
    const controller = startSupervisedProcess(
      'argocd-application-controller',
      '/usr/bin/env',
      [
        ...env,
        'ARGOCD_BINARY_NAME=argocd-application-controller',
        binary,
        '--redis',
        redisAddress,
        '--repo-server',
        `127.0.0.1:${ports.repo}`,
        '--repo-server-plaintext',
        '--commit-server',
        `127.0.0.1:${ports.commit}`,
        '--metrics-port',
        String(ports.controllerMetrics),
        // Look at the Applications often: the tests wait on them, not on a 3-minute resync.
        '--app-resync',
        '10',
        '--loglevel',
        'warn',
      ],
      join(workDir, 'controller.log'),
    );
    started.push(controller);
    await waitForPort(ports.controllerMetrics, 'the application controller', controller);
    // ApplicationSets (one Application per peer folder) are generated by a controller of their own.
    const applicationSets = startSupervisedProcess(
      'argocd-applicationset-controller',
      '/usr/bin/env',
      [
        ...env,
        'ARGOCD_BINARY_NAME=argocd-applicationset-controller',
        binary,
        '--kubeconfig',
        kubeconfig,
        '--argocd-repo-server',
        `127.0.0.1:${ports.repo}`,
        '--repo-server-plaintext',
        '--metrics-addr',
        `127.0.0.1:${ports.setMetrics}`,
        '--probe-addr',
        `127.0.0.1:${ports.setProbe}`,
        '--webhook-addr',
        `127.0.0.1:${ports.setWebhook}`,
        '--enable-scm-providers=false',
        '--loglevel',
        'warn',
      ],
      join(workDir, 'applicationset-controller.log'),
    );
    started.push(applicationSets);
    await waitForPort(ports.setProbe, 'the applicationset controller', applicationSets);
  } catch (error) {
    await stop();
    throw error;
  }
  /** What a git server's push webhook makes Argo CD do: the refresh annotation on the object. */
  const annotate = async (resource: string, name: string, annotation: string) => {
    await plane.kubectl(['annotate', resource, name, '-n', ARGOCD_NAMESPACE, annotation, '--overwrite']);
  };
  return {
    refresh: (name) => annotate('applications.argoproj.io', name, 'argocd.argoproj.io/refresh=hard'),
    refreshSet: (name) =>
      annotate('applicationsets.argoproj.io', name, 'argocd.argoproj.io/application-set-refresh=true'),
    async application(name) {
      const out = await plane
        .kubectl(['get', 'applications.argoproj.io', name, '-n', ARGOCD_NAMESPACE, '-o', 'json'])
        .catch(() => undefined);
      if (!out) return undefined;
      const status = (
        JSON.parse(out.stdout) as {
          status?: {
            sync?: { status?: string; revision?: string };
            health?: { status?: string; message?: string };
            operationState?: { phase?: string; message?: string };
            conditions?: { type: string; message: string }[];
            resources?: ArgoResourceState[];
          };
        }
      ).status;
      return {
        sync: status?.sync?.status,
        revision: status?.sync?.revision,
        health: status?.health?.status,
        message: status?.health?.message,
        operationPhase: status?.operationState?.phase,
        operationMessage: status?.operationState?.message,
        conditions: status?.conditions,
        resources: status?.resources,
      };
    },
    logTail: () =>
      started.map((p) => `--- ${p.name} ---\n${existsSync(p.logPath) ? p.logTail(20) : ''}`).join('\n'),
    stop,
  };
}
