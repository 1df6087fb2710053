import type { ControlPlane } from '../../../../test-support/kube/control-plane.js';
import { kubernetesBacking } from '../../../src/operator/backing/backing.js';
import { OperatorMetrics } from '../../../src/operator/runtime/metrics.js';
import type { RouterDriver } from '../../../src/router/driver.js';
import { kubectlApply, operatorKubeClient } from './cluster.js';
import { startNetwork, tokenOf, type Network, type NetworkOptions } from './network.js';

/**
 * One network's operator on the real API server: its own namespace, the chart's RBAC for its ServiceAccount,
 * leader election on a Lease there, the Peering API on loopback.
 */
export async function startClusterNetwork(
  plane: ControlPlane,
  options: {
    asn: number;
    callers: number[];
    namespace: string;
    router: RouterDriver;
    identity?: string;
    listen?: string;
  } & Pick<NetworkOptions, 'approval' | 'timeWindow' | 'extra' | 'logger'>,
): Promise<Network & { metrics: OperatorMetrics; kubeRequests(): number }> {
  const metrics = new OperatorMetrics();
  const kube = await operatorKubeClient(plane, options.namespace, { metrics });
  const network = await startNetwork({
    ...options,
    backing: kubernetesBacking(kube, { leaseNamespace: options.namespace, leaseName: 'peering-operator' }),
    extra: {
      metrics,
      leaderElection: {
        identity: options.identity ?? `operator-as${options.asn}`,
        leaseDurationMs: 4_000,
        renewDeadlineMs: 3_000,
        retryPeriodMs: 500,
      },
      ...options.extra,
    },
  });
  await network.operator.whenReconciling();
  return { ...network, metrics, kubeRequests: () => kube.requests };
}

/** The Secret holding the token `holder` uses at its peer's API. */
export async function createPeerTokenSecret(
  plane: ControlPlane,
  namespace: string,
  name: string,
  holder: number,
): Promise<void> {
  await kubectlApply(plane, [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace },
      stringData: { token: tokenOf(holder) },
    },
  ]);
}
