import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Config } from '../../config/config.js';
import { PeeringError } from '../../domain/errors.js';
import { BirdRouterDriver } from '../../router/bird/bird-driver.js';
import { loadSessionDefaults } from '../../router/bird/session-defaults.js';
import type { RouterDriver } from '../../router/driver.js';
import { NoRouterDriver } from '../../router/no-router.js';
import { FrrRouterDriver } from '../../router/frr/frr-driver.js';
import { RecordingRouterDriver } from '../../router/recording.js';
import { openPeeringDb } from '../../api/runtime.js';
import { embeddedBacking, kubernetesBacking } from '../../operator/backing/backing.js';
import { KubeClient } from '../../operator/backing/kube/client.js';
import { loadKubeCredentials } from '../../operator/backing/kube/kubeconfig.js';
import { startOperator, type RunningOperator } from '../../operator/operator.js';
import type { CrashPoints } from '../../operator/reconcilers/request-reconciler.js';
import { Logger, type LogLevel } from '../../operator/runtime/logger.js';
import { OperatorMetrics } from '../../operator/runtime/metrics.js';

/** The options of `peering-operator run` (see its --help). */
export interface RunOptions {
  config: Config;
  configPath: string;
  kubeconfig?: string | undefined;
  standalone?: boolean | undefined;
  manifests?: string | undefined;
  dataDir?: string | undefined;
  manifestsPollMs?: number | undefined;
  watchNamespace?: string | undefined;
  inboundNamespace?: string | undefined;
  listen?: string | undefined;
  healthListen?: string | undefined;
  leaderElect?: boolean | undefined;
  leaseName?: string | undefined;
  leaseNamespace?: string | undefined;
  leaseDurationMs?: number | undefined;
  renewDeadlineMs?: number | undefined;
  retryPeriodMs?: number | undefined;
  identity?: string | undefined;
  router?: 'agents' | 'bird' | 'frr' | 'none' | 'recording' | undefined;
  /** `--router frr`: bgpd's vty socket folder and listen port. */
  frrVtySocket?: string | undefined;
  frrListenPort?: number | undefined;
  /** YAML of what every session gets, for either daemon (`--bird-session-defaults` is the same for BIRD). */
  sessionDefaults?: string | undefined;
  /** `--router agents`: how long a silent agent stays connected. */
  agentTimeoutMs?: number | undefined;
  birdSocket?: string | undefined;
  birdIncludeDir?: string | undefined;
  /** YAML file of what every BIRD session gets: filters, ports, timers, multihop (router/bird/session-defaults.ts). */
  birdSessionDefaults?: string | undefined;
  workers?: number | undefined;
  /** An inbound request left without sessions is removed this long after. */
  emptyRequestGraceMs?: number | undefined;
  logLevel?: LogLevel | undefined;
}

/**
 * The router driver the operator was told to use. There is no default: a production start must say which router
 * it drives (`bird`), or that it drives none (`none`: every session says `NoRouter`). The recording driver, which
 * configures nothing yet reports sessions configured, is for tests and benchmarks and only ever chosen by name.
 */
async function routerFrom(options: RunOptions, logger: Logger): Promise<RouterDriver | 'agents'> {
  const kind = options.router ?? (options.birdSocket ? 'bird' : undefined);
  if (kind === undefined) {
    throw new PeeringError(
      'INVALID_CONFIG',
      'choose the router this operator configures: --router agents (Router resources, a router-agent beside ' +
        'each BGP daemon), --router bird (with --bird-socket and --bird-include-dir), ' +
        'or --router none to run without one (every session then says NoRouter)',
      'router',
    );
  }
  if (kind === 'agents') {
    if (options.standalone) {
      throw new PeeringError(
        'INVALID_CONFIG',
        '--router agents needs Kubernetes (Router resources); standalone, use --router bird or --router frr',
        'router',
      );
    }
    return 'agents';
  }
  if (kind === 'none') {
    logger.warn('router: none: no session is configured on any router; each says Configured=False NoRouter');
    return new NoRouterDriver();
  }
  if (kind === 'recording') {
    logger.warn('router: recording driver (tests and benchmarks): sessions are recorded, not configured');
    return new RecordingRouterDriver();
  }
  const defaultsFile = options.sessionDefaults ?? options.birdSessionDefaults;
  const sessionDefaults = defaultsFile === undefined ? undefined : await loadSessionDefaults(defaultsFile);
  if (kind === 'frr') {
    return new FrrRouterDriver({
      vtySocketDir: options.frrVtySocket,
      listenPort: options.frrListenPort,
      sessionDefaults,
    });
  }
  if (kind !== 'bird') {
    throw new PeeringError(
      'INVALID_CONFIG',
      `--router must be agents, bird, frr, none or recording (tests), not "${String(kind)}"`,
      'router',
    );
  }
  if (!options.birdSocket || !options.birdIncludeDir) {
    throw new PeeringError(
      'INVALID_CONFIG',
      '--router bird needs --bird-socket and --bird-include-dir',
      'router',
    );
  }
  return new BirdRouterDriver({
    socketPath: options.birdSocket,
    includeDir: options.birdIncludeDir,
    sessionDefaults,
  });
}

/** Test hook: `PEERING_OPERATOR_CRASH_AT=afterPost` kills the process (SIGKILL) at that step, once. */
function crashPointsFromEnvironment(): CrashPoints | undefined {
  const point = process.env['PEERING_OPERATOR_CRASH_AT'];
  if (point !== 'afterIntent' && point !== 'afterPost' && point !== 'afterRecord') return undefined;
  return { [point]: () => void process.kill(process.pid, 'SIGKILL') };
}

/**
 * `peering-operator run`: the operator on a cluster (in-cluster credentials by default, or `--kubeconfig`), or
 * standalone on the embedded store with PeeringRequests and Secrets read from `--manifests`. Serves the Peering
 * API on the same resources, health and metrics on `--health-listen`.
 *
 * @example
 * await runOperator({ config, configPath: 'peering.yaml', standalone: true, manifests: './manifests' });
 */
export async function runOperator(options: RunOptions): Promise<RunningOperator> {
  const logger = new Logger({ level: options.logLevel ?? 'info', fields: { component: 'peering-operator' } });
  const metrics = new OperatorMetrics(true);
  const configDir = dirname(resolve(options.configPath));
  const router = await routerFrom(options, logger);
  const peeringDb = await openPeeringDb(options.config, configDir);
  const inboundNamespace = options.inboundNamespace ?? process.env['POD_NAMESPACE'] ?? 'default';
  let manifestTimer: NodeJS.Timeout | undefined;
  // What both modes give the operator; only the backing and leader election differ.
  const common = {
    config: options.config,
    router: router === 'agents' ? undefined : router,
    routerAgents: router === 'agents' ? { agentTimeoutMs: options.agentTimeoutMs } : undefined,
    watchNamespace: options.watchNamespace,
    inboundNamespace,
    api: { listen: options.listen, configDir, peeringDb },
    health: options.healthListen ? { listen: options.healthListen } : undefined,
    peeringDb,
    workers: options.workers === undefined ? undefined : { sessions: options.workers },
    emptyRequestGraceMs: options.emptyRequestGraceMs,
    logger,
    metrics,
    crashPoints: crashPointsFromEnvironment(),
  };

  let operator: RunningOperator;
  if (options.standalone) {
    const dataDir = resolve(configDir, options.dataDir ?? options.config.store.dataDir);
    const backing = embeddedBacking(
      dataDir,
      options.manifests === undefined ? undefined : resolve(options.manifests),
    );
    // Manifests (and their Secrets) are applied before the controllers start, so that after a restart the
    // first reconcile already sees the credentials instead of failing once on a missing Secret.
    const manifests = backing.manifests;
    const sync = async () => {
      if (!manifests) return;
      try {
        const report = await manifests.sync();
        for (const problem of report.problems) logger.error('manifest refused', { ...problem });
        if (report.applied.length + report.removed.length > 0)
          logger.info('manifests applied', { ...report });
      } catch (error) {
        logger.error('manifests could not be read', { error });
      }
    };
    await sync();
    operator = await startOperator({ ...common, backing });
    if (manifests) {
      manifestTimer = setInterval(() => void sync(), options.manifestsPollMs ?? 5_000);
      manifestTimer.unref();
    }
  } else {
    const kube = await KubeClient.connect(await loadKubeCredentials(options.kubeconfig), { metrics });
    const identity = options.identity ?? process.env['POD_NAME'] ?? `${hostname()}-${process.pid}`;
    const leaseNamespace = options.leaseNamespace ?? process.env['POD_NAMESPACE'] ?? inboundNamespace;
    operator = await startOperator({
      backing: kubernetesBacking(kube, {
        leaseNamespace: options.leaderElect ? leaseNamespace : undefined,
        leaseName: options.leaseName,
        logger,
      }),
      ...common,
      leaderElection: options.leaderElect
        ? {
            identity,
            leaseDurationMs: options.leaseDurationMs,
            renewDeadlineMs: options.renewDeadlineMs,
            retryPeriodMs: options.retryPeriodMs,
          }
        : undefined,
      // Exit and let the kubelet restart us clean: a replica that lost its lease must not keep reconciling.
      onLostLeadership: () => {
        logger.error('lost leadership; exiting');
        process.exit(1);
      },
    });
  }
  logger.info('started', {
    mode: options.standalone ? 'standalone' : 'kubernetes',
    api: operator.api?.baseUrl,
    health: operator.health?.origin,
    asns: options.config.asns,
  });
  return {
    ...operator,
    stop: async () => {
      if (manifestTimer) clearInterval(manifestTimer);
      await operator.stop();
    },
  };
}
