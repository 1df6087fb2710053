import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  KubeConfig,
  VersionApi,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';

import { ADMIN_USER, generateCertificates, type ControlPlaneCertificates } from './certificates.js';
import {
  BUILD_SCRIPT,
  buildBinaries,
  findControlPlaneSource,
  type ControlPlaneSource,
} from './control-plane-source.js';
import { installCRDs, uninstallCRDs, type CrdSource } from './crds.js';
import { ControlPlaneStartError, ControlPlaneStoppedError, ControlPlaneUnavailableError } from './errors.js';
import { sleep, startSupervisedProcess, type SupervisedProcess } from './supervised-process.js';

export type { CrdSource } from './crds.js';

const runFile = promisify(execFile);

/** A running Kubernetes API server for tests, started by {@link startControlPlane}. */
export interface ControlPlane {
  /** `local`: etcd + kube-apiserver started by the harness; `existing`: the cluster of `KUBECONFIG`. */
  readonly kind: 'local' | 'existing';
  /** The API server's URL, e.g. `https://127.0.0.1:40123`. */
  readonly server: string;
  /** A kubeconfig file with admin (system:masters) rights; for `existing`, the caller's `KUBECONFIG`. */
  readonly kubeconfigPath: string;
  /** The same admin credential, loaded. */
  readonly kubeConfig: KubeConfig;
  /**
   * Folder with the logs of etcd, kube-apiserver and, if asked for,
   * kube-controller-manager (`local` only); removed by stop().
   */
  readonly logDir: string | undefined;
  /**
   * Creates a namespace named `<prefix>-<random>` and resolves with its name.
   * Give each suite its own: the local API server runs no namespace
   * controller, so a deleted namespace stays Terminating for good.
   */
  newNamespace(prefix?: string): Promise<string>;
  /**
   * Creates (or, if present, replaces) CustomResourceDefinitions from a
   * directory of YAML/JSON files, a list of files, or objects, and waits until
   * each is Established. Rejects with the API server's own message when a
   * schema is not structural or a CEL rule does not compile.
   */
  installCRDs(source: CrdSource): Promise<V1CustomResourceDefinition[]>;
  /**
   * A kubeconfig that authenticates as ServiceAccount `namespace/name`
   * (created if missing) with a TokenRequest token: RBAC applies to it, so a
   * test can prove what least privilege is enough.
   */
  serviceAccountKubeConfig(namespace: string, name: string): Promise<KubeConfig>;
  /** Runs the machine's `kubectl` against this API server; rejects on a non-zero exit. */
  kubectl(args: readonly string[]): Promise<{ stdout: string; stderr: string }>;
  /**
   * Stops kube-controller-manager if it runs, kube-apiserver and etcd
   * (process group and all) and removes their data, or for `existing`
   * deletes the namespaces and CRDs this harness created. Safe to call twice.
   */
  stop(): Promise<void>;
}

export interface StartControlPlaneOptions {
  /** Where binaries or the cluster come from; default: {@link findControlPlaneSource}. */
  readonly source?: ControlPlaneSource;
  /** Extra kube-apiserver flags (`--name=value`), after ours so they win. */
  readonly apiServerArgs?: readonly string[];
  /** CRDs to install before resolving. */
  readonly crds?: CrdSource;
  /** How long etcd plus kube-apiserver may take to become ready; default 60 s. */
  readonly readyTimeoutMs?: number;
  /**
   * Also run the real kube-controller-manager (local control planes only; an
   * existing cluster has its own), so Deployments, ReplicaSets and
   * PodDisruptionBudgets get their status from the real controllers and
   * ownerReferences cascade. `true` runs {@link DEFAULT_CONTROLLERS}. There is
   * no scheduler or kubelet: Pods stay Pending. Off by default, because the
   * garbage collector deletes any object whose owner does not exist, which a
   * test that fakes ownerReferences would not expect. Needs
   * `kube-controller-manager` next to kube-apiserver (test-support/kube/build.sh
   * builds it); without it the start fails saying so.
   */
  readonly controllerManager?: boolean | ControllerManagerOptions;
}

export interface ControllerManagerOptions {
  /** Its `--controllers` list (canonical names or aliases); default {@link DEFAULT_CONTROLLERS}. */
  readonly controllers?: readonly string[];
  /** Extra kube-controller-manager flags (`--name=value`), after ours so they win. */
  readonly args?: readonly string[];
}

/**
 * The controllers `controllerManager: true` runs: enough for workloads'
 * statuses to be real and for cascading deletion, and nothing that would
 * touch what other tests create (no namespace, ServiceAccount, token,
 * endpoint or node controllers). Canonical names of Kubernetes 1.37; their
 * old aliases are deployment, replicaset, disruption and garbagecollector.
 */
export const DEFAULT_CONTROLLERS: readonly string[] = [
  'deployment-controller',
  'replicaset-controller',
  'disruption-controller',
  'garbage-collector-controller',
];

/**
 * Starts a real control plane (etcd + kube-apiserver on free loopback ports,
 * a fresh CA, RBAC enforced, an admin client certificate in system:masters),
 * or connects to the cluster in `KUBECONFIG`; see README.md for the choice.
 *
 * @example
 * ```ts
 * const plane = await startControlPlane({ crds: 'crds' });
 * try {
 *   const namespace = await plane.newNamespace('sessions');
 *   const core = plane.kubeConfig.makeApiClient(CoreV1Api);
 *   await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'x' } } });
 * } finally {
 *   await plane.stop();
 * }
 * ```
 */
export async function startControlPlane(options: StartControlPlaneOptions = {}): Promise<ControlPlane> {
  const source = options.source ?? findControlPlaneSource();
  let plane: ControlPlane;
  switch (source.kind) {
    case 'unavailable':
      throw new ControlPlaneUnavailableError(source.reason);
    case 'existing':
      plane = await connectExisting(source.kubeconfig);
      break;
    case 'build':
      plane = await startLocal(await buildBinaries(), 'the folder build.sh built', options);
      break;
    case 'binaries':
      plane = await startLocal(
        source.dir,
        source.origin === 'KUBEBUILDER_ASSETS' ? 'KUBEBUILDER_ASSETS' : 'the build cache',
        options,
      );
      break;
  }
  if (options.crds !== undefined) {
    try {
      await plane.installCRDs(options.crds);
    } catch (error) {
      await plane.stop();
      throw error;
    }
  }
  return plane;
}

const WORK_DIR_PREFIX = 'peering-envtest-';

/**
 * Fails before anything starts when kube-controller-manager is asked for and
 * `binDir` (from `origin`) has none, e.g. an envtest download, which never
 * ships one, or a folder built before build.sh built it.
 */
function requireControllerManager(binDir: string, origin: string): void {
  const binary = join(binDir, 'kube-controller-manager');
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new ControlPlaneUnavailableError(
      `the controllerManager option needs kube-controller-manager, but ${origin} (${binDir}) has no ` +
        `executable kube-controller-manager. Run ${BUILD_SCRIPT}: it builds kube-controller-manager with ` +
        'kube-apiserver and etcd and prints their folder; unset KUBEBUILDER_ASSETS or point it at that folder.',
    );
  }
}

async function startLocal(
  binDir: string,
  origin: string,
  options: StartControlPlaneOptions,
): Promise<ControlPlane> {
  if (options.controllerManager) requireControllerManager(binDir, origin);
  removeAbandonedWorkDirs();
  // The pid in the name lets a later run remove folders whose owner died.
  const workDir = await mkdtemp(join(tmpdir(), `${WORK_DIR_PREFIX}${process.pid}-`));
  const processes: SupervisedProcess[] = [];
  const stopProcesses = async (): Promise<void> => {
    // API server first: it would log etcd connection errors otherwise.
    for (const member of processes.splice(0).reverse()) await member.stop();
  };

  try {
    const pki = join(workDir, 'pki');
    await mkdir(pki);
    const certificates = await generateCertificates(pki);
    const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;

    // A port found free can be taken by someone else before our process binds
    // it; such a start is retried on new ports.
    for (let attempt = 1; ; attempt++) {
      const { etcdPort, etcdPeerPort, apiPort, controllerManagerPort } = await freeLoopbackPorts([
        'etcdPort',
        'etcdPeerPort',
        'apiPort',
        'controllerManagerPort',
      ]);
      try {
        const etcd = startEtcd(binDir, workDir, etcdPort, etcdPeerPort);
        processes.push(etcd);
        await waitUntilReady(etcd, `http://127.0.0.1:${etcdPort}/health`, readyTimeoutMs);

        const server = `https://127.0.0.1:${apiPort}`;
        const apiServer = startApiServer(
          binDir,
          workDir,
          certificates,
          etcdPort,
          apiPort,
          options.apiServerArgs ?? [],
        );
        processes.push(apiServer);
        await waitUntilReady(apiServer, `${server}/readyz`, readyTimeoutMs, certificates);

        const kubeconfigPath = join(workDir, 'kubeconfig');
        await writeFile(kubeconfigPath, adminKubeconfig(server, certificates), { mode: 0o600 });
        const kubeConfig = new KubeConfig();
        kubeConfig.loadFromFile(kubeconfigPath);

        if (options.controllerManager) {
          // A file of its own: tests may run `kubectl config ...` on the one above.
          const controllerManagerKubeconfig = join(workDir, 'kube-controller-manager.kubeconfig');
          await writeFile(controllerManagerKubeconfig, adminKubeconfig(server, certificates), {
            mode: 0o600,
          });
          const controllerManager = startControllerManager(
            binDir,
            workDir,
            certificates,
            controllerManagerKubeconfig,
            controllerManagerPort,
            options.controllerManager === true ? {} : options.controllerManager,
          );
          processes.push(controllerManager);
          await waitUntilReady(
            controllerManager,
            `https://127.0.0.1:${controllerManagerPort}/healthz`,
            readyTimeoutMs,
            certificates,
          );
        }

        return makeControlPlane({
          kind: 'local',
          server,
          kubeconfigPath,
          kubeConfig,
          logDir: workDir,
          kubectlCacheDir: join(workDir, 'kubectl-cache'),
          release: async () => {
            await stopProcesses();
            await rm(workDir, { recursive: true, force: true });
          },
        });
      } catch (error) {
        const portTaken = processes.some((p) => /address already in use/i.test(p.logTail(20)));
        await stopProcesses();
        if (!portTaken || attempt === 3) throw error;
        // etcd recorded the lost peer URL in its data; the next attempt starts afresh.
        await rm(join(workDir, 'etcd'), { recursive: true, force: true });
      }
    }
  } catch (error) {
    await stopProcesses();
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

function startEtcd(binDir: string, workDir: string, port: number, peerPort: number): SupervisedProcess {
  const client = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return startSupervisedProcess(
    'etcd',
    join(binDir, 'etcd'),
    [
      `--data-dir=${join(workDir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      // Every peer flag explicit: the defaults name localhost:2380, which
      // two suites running side by side would fight over.
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      // Test data is thrown away; fsync would only cost start-up and write time.
      '--unsafe-no-fsync=true',
    ],
    join(workDir, 'etcd.log'),
  );
}

function startApiServer(
  binDir: string,
  workDir: string,
  certificates: ControlPlaneCertificates,
  etcdPort: number,
  port: number,
  extraArgs: readonly string[],
): SupervisedProcess {
  // Modelled on controller-runtime envtest's defaults; differences are noted.
  return startSupervisedProcess(
    'kube-apiserver',
    join(binDir, 'kube-apiserver'),
    [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      `--cert-dir=${join(workDir, 'apiserver-certs')}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--tls-cert-file=${certificates.servingCertPath}`,
      `--tls-private-key-file=${certificates.servingKeyPath}`,
      `--client-ca-file=${certificates.caCertPath}`,
      // Enforced, unlike envtest's Node,RBAC there is no kubelet to authorise.
      '--authorization-mode=RBAC',
      `--service-account-issuer=https://127.0.0.1:${port}`,
      `--service-account-key-file=${certificates.serviceAccountPublicKeyPath}`,
      `--service-account-signing-key-file=${certificates.serviceAccountPrivateKeyPath}`,
      // Only reserved inside the API server; no traffic goes to this range.
      '--service-cluster-ip-range=10.0.0.0/24',
      // Without kube-controller-manager nothing creates the default
      // ServiceAccount that this admission plugin insists on for pods.
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
      // The "kubernetes" Endpoints would point at 127.0.0.1, which validation rejects on every resync.
      '--endpoint-reconciler-type=none',
      ...extraArgs,
    ],
    join(workDir, 'kube-apiserver.log'),
  );
}

function startControllerManager(
  binDir: string,
  workDir: string,
  certificates: ControlPlaneCertificates,
  kubeconfigPath: string,
  port: number,
  options: ControllerManagerOptions,
): SupervisedProcess {
  return startSupervisedProcess(
    'kube-controller-manager',
    join(binDir, 'kube-controller-manager'),
    [
      `--kubeconfig=${kubeconfigPath}`,
      // Serving only so the harness can tell it is up (/healthz, open to all)
      // and a person can read /metrics with the admin certificate (its
      // system:masters group is always allowed). No authentication or
      // authorization kubeconfig: the lookups they bring would log an error
      // every few seconds about the front-proxy CA this API server lacks.
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--tls-cert-file=${certificates.servingCertPath}`,
      `--tls-private-key-file=${certificates.servingKeyPath}`,
      `--client-ca-file=${certificates.caCertPath}`,
      // One instance per API server: no Lease to wait for or to renew.
      '--leader-elect=false',
      `--controllers=${(options.controllers ?? DEFAULT_CONTROLLERS).join(',')}`,
      // Every controller acts with the admin credential above; with true it
      // would need the ServiceAccount token controller and a signing key.
      '--use-service-account-credentials=false',
      // Controllers stop within a second here; the default 10 s would only delay stop().
      '--controller-shutdown-timeout=3s',
      ...(options.args ?? []),
    ],
    join(workDir, 'kube-controller-manager.log'),
  );
}

function adminKubeconfig(server: string, certificates: ControlPlaneCertificates): string {
  const base64 = (pem: string): string => Buffer.from(pem).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'peering-envtest',
        cluster: { server, 'certificate-authority-data': base64(certificates.caCertPem) },
      },
    ],
    users: [
      {
        name: ADMIN_USER,
        user: {
          'client-certificate-data': base64(certificates.adminCertPem),
          'client-key-data': base64(certificates.adminKeyPem),
        },
      },
    ],
    contexts: [{ name: 'peering-envtest', context: { cluster: 'peering-envtest', user: ADMIN_USER } }],
    'current-context': 'peering-envtest',
  });
}

/** Polls `url` until it answers 200, failing early with the log tail if the process exits. */
async function waitUntilReady(
  supervised: SupervisedProcess,
  url: string,
  timeoutMs: number,
  tls?: ControlPlaneCertificates,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (supervised.hasExited()) {
      throw new ControlPlaneStartError(
        `${supervised.name} exited (${await supervised.exited}) before it was ready; last log lines:\n${supervised.logTail()}`,
      );
    }
    last = await probe(url, tls);
    if (last === '200') return;
    await sleep(100);
  }
  throw new ControlPlaneStartError(
    `${supervised.name} was not ready at ${url} within ${timeoutMs} ms (last: ${last}); last log lines:\n${supervised.logTail()}`,
  );
}

function probe(url: string, tls?: ControlPlaneCertificates): Promise<string> {
  return new Promise((resolve) => {
    const options = {
      timeout: 2_000,
      ...(tls && { ca: tls.caCertPem, cert: tls.adminCertPem, key: tls.adminKeyPem }),
    };
    const request = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, options, (response) => {
      response.resume();
      resolve(String(response.statusCode));
    });
    request.once('timeout', () => request.destroy(new Error('timeout')));
    request.once('error', (error) => resolve(error.message));
    request.end();
  });
}

/** Binds port 0 on 127.0.0.1 once per name, all at once so the ports differ, then frees them. */
export async function freeLoopbackPorts<Name extends string>(
  names: readonly Name[],
): Promise<Record<Name, number>> {
  const servers = await Promise.all(
    names.map(
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = Object.fromEntries(
    names.map((name, index) => [name, (servers[index]?.address() as AddressInfo).port]),
  ) as Record<Name, number>;
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Removes work folders of test processes that died without stop() (SIGKILL, OOM). */
function removeAbandonedWorkDirs(): void {
  for (const entry of readdirSync(tmpdir())) {
    const owner = new RegExp(`^${WORK_DIR_PREFIX}(\\d+)-`).exec(entry)?.[1];
    if (owner === undefined || Number(owner) === process.pid || processExists(Number(owner))) continue;
    rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function connectExisting(kubeconfigPath: string): Promise<ControlPlane> {
  const kubeConfig = new KubeConfig();
  // loadFromDefault, not loadFromFile: KUBECONFIG may be a list of files.
  kubeConfig.loadFromDefault();
  const server = kubeConfig.getCurrentCluster()?.server;
  if (server === undefined) {
    throw new ControlPlaneUnavailableError(`KUBECONFIG=${kubeconfigPath} has no current cluster`);
  }
  try {
    await kubeConfig.makeApiClient(VersionApi).getCode();
  } catch (error) {
    throw new ControlPlaneUnavailableError(
      `the cluster at ${server} (KUBECONFIG=${kubeconfigPath}) does not answer: ${(error as Error).message}`,
    );
  }
  console.warn(
    `peering-operator tests: using the EXISTING cluster at ${server} from KUBECONFIG; ` +
      'they create CRDs and namespaces there and delete only what they created. ' +
      'Set PEERING_CONTROL_PLANE=local to start a private one instead.',
  );
  const workDir = await mkdtemp(join(tmpdir(), `${WORK_DIR_PREFIX}${process.pid}-`));
  return makeControlPlane({
    kind: 'existing',
    server,
    kubeconfigPath,
    kubeConfig,
    logDir: undefined,
    kubectlCacheDir: join(workDir, 'kubectl-cache'),
    release: () => rm(workDir, { recursive: true, force: true }),
  });
}

interface ControlPlaneParts {
  readonly kind: 'local' | 'existing';
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  readonly logDir: string | undefined;
  readonly kubectlCacheDir: string;
  readonly release: () => Promise<void>;
}

function makeControlPlane(parts: ControlPlaneParts): ControlPlane {
  const { kind, server, kubeconfigPath, kubeConfig, logDir } = parts;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const createdNamespaces: string[] = [];
  const createdCrds: string[] = [];
  let stopped = false;
  const live = (): void => {
    if (stopped) throw new ControlPlaneStoppedError(`the control plane at ${server} was stopped`);
  };

  return {
    kind,
    server,
    kubeconfigPath,
    kubeConfig,
    logDir,

    async newNamespace(prefix = 'test') {
      live();
      const namespace = await core.createNamespace({
        body: {
          metadata: {
            generateName: `${prefix
              .toLowerCase()
              .replace(/[^a-z0-9-]+/g, '-')
              .slice(0, 40)}-`,
            labels: { 'peering-operator.test/harness': 'true' },
          },
        },
      });
      const name = namespace.metadata?.name;
      if (name === undefined) throw new Error('the API server returned a namespace without a name');
      createdNamespaces.push(name);
      return name;
    },

    async installCRDs(source) {
      live();
      const { installed, created } = await installCRDs(kubeConfig, source);
      createdCrds.push(...created);
      return installed;
    },

    async serviceAccountKubeConfig(namespace, name) {
      live();
      try {
        await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
      } catch (error) {
        if (!(error instanceof ApiException && error.code === 409)) throw error;
      }
      const request = await core.createNamespacedServiceAccountToken({
        name,
        namespace,
        body: { spec: { audiences: [], expirationSeconds: 3600 } },
      });
      const token = request.status?.token;
      if (token === undefined) throw new Error(`no token issued for ServiceAccount ${namespace}/${name}`);
      const cluster = kubeConfig.getCurrentCluster();
      if (cluster === null) throw new Error('the admin kubeconfig has no current cluster');
      const user = `system:serviceaccount:${namespace}:${name}`;
      const result = new KubeConfig();
      result.loadFromOptions({
        clusters: [cluster],
        users: [{ name: user, token }],
        contexts: [{ name: user, cluster: cluster.name, user }],
        currentContext: user,
      });
      return result;
    },

    async kubectl(args) {
      live();
      try {
        return await runFile('kubectl', [...args], {
          // A private discovery cache: ports are reused, and ~/.kube/cache
          // would fill with one folder per test run.
          env: { ...process.env, KUBECONFIG: kubeconfigPath, KUBECACHEDIR: parts.kubectlCacheDir },
          timeout: 60_000,
        });
      } catch (error) {
        const failure = error as Error & { stderr?: string };
        throw new Error(`kubectl ${args.join(' ')} failed: ${failure.stderr || failure.message}`);
      }
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      if (kind === 'existing') {
        const extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
        await Promise.allSettled(createdNamespaces.map((name) => core.deleteNamespace({ name })));
        await uninstallCRDs(extensions, createdCrds);
      }
      await parts.release();
    },
  };
}
