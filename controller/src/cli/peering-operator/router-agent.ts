import { hostname } from 'node:os';
import { RouterAgent } from '../../agent/router-agent.js';
import { PeeringError } from '../../domain/errors.js';
import { PEERING_SESSION, ROUTER } from '../../operator/resources/api-group.js';
import type { PeeringSession } from '../../operator/resources/peering-session.js';
import type { Router } from '../../operator/resources/router.js';
import { KubeClient } from '../../operator/backing/kube/client.js';
import { KubeResourceCollection } from '../../operator/backing/kube/collection.js';
import { loadKubeCredentials } from '../../operator/backing/kube/kubeconfig.js';
import { KubeSecretReader } from '../../operator/backing/kube/secrets.js';
import { Logger, type LogLevel } from '../../operator/runtime/logger.js';
import { BirdRouterDriver } from '../../router/bird/bird-driver.js';
import { loadSessionDefaults } from '../../router/bird/session-defaults.js';
import type { RouterDriver } from '../../router/driver.js';
import { FrrRouterDriver } from '../../router/frr/frr-driver.js';

/** The options of `peering-operator router-agent` (see its --help). */
export interface RouterAgentRunOptions {
  router: string;
  namespace?: string | undefined;
  kubeconfig?: string | undefined;
  identity?: string | undefined;
  driver?: string | undefined;
  birdSocket?: string | undefined;
  birdIncludeDir?: string | undefined;
  birdSessionDefaults?: string | undefined;
  frrVtySocket?: string | undefined;
  frrListenPort?: number | undefined;
  sessionDefaults?: string | undefined;
  heartbeatMs?: number | undefined;
  observeMs?: number | undefined;
  logLevel?: LogLevel | undefined;
}

export interface RunningAgent {
  stop(): Promise<void>;
}

/**
 * `peering-operator router-agent`: the agent beside one BGP daemon, for the Router `--router` in `--namespace`,
 * with in-cluster credentials or `--kubeconfig` (RBAC: docs/router-agent.md).
 *
 * @example
 * await runRouterAgent({ router: 'edge1', namespace: 'peering', driver: 'bird', birdSocket, birdIncludeDir });
 */
export async function runRouterAgent(options: RouterAgentRunOptions): Promise<RunningAgent> {
  const logger = new Logger({ level: options.logLevel ?? 'info', fields: { component: 'router-agent' } });
  const driverKind = options.driver;
  if (driverKind !== 'bird' && driverKind !== 'frr') {
    throw new PeeringError('INVALID_CONFIG', '--driver must be bird (BIRD 2) or frr (FRRouting)', 'driver');
  }
  const defaultsFile = options.sessionDefaults ?? options.birdSessionDefaults;
  const sessionDefaults = defaultsFile === undefined ? undefined : await loadSessionDefaults(defaultsFile);
  let driver: RouterDriver;
  if (driverKind === 'frr') {
    driver = new FrrRouterDriver({
      vtySocketDir: options.frrVtySocket,
      listenPort: options.frrListenPort,
      sessionDefaults,
    });
  } else {
    if (!options.birdSocket || !options.birdIncludeDir) {
      throw new PeeringError(
        'INVALID_CONFIG',
        '--driver bird needs --bird-socket and --bird-include-dir',
        'driver',
      );
    }
    driver = new BirdRouterDriver({
      socketPath: options.birdSocket,
      includeDir: options.birdIncludeDir,
      sessionDefaults,
    });
  }
  const namespace = options.namespace ?? process.env['POD_NAMESPACE'] ?? 'default';
  const kube = await KubeClient.connect(await loadKubeCredentials(options.kubeconfig));
  const agent = new RouterAgent(
    {
      sessions: new KubeResourceCollection<PeeringSession>(kube, PEERING_SESSION),
      routers: new KubeResourceCollection<Router>(kube, ROUTER),
      secrets: new KubeSecretReader(kube),
      driver,
      logger,
    },
    {
      router: options.router,
      namespace,
      driverKind,
      identity: options.identity ?? process.env['POD_NAME'] ?? hostname(),
      heartbeatMs: options.heartbeatMs,
      observeMs: options.observeMs,
    },
  );
  try {
    await agent.start();
  } catch (error) {
    await agent.kill();
    await kube.close();
    throw error;
  }
  return {
    stop: async () => {
      await agent.stop();
      await kube.close();
    },
  };
}
