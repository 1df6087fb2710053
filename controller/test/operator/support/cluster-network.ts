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

/** AS64500 (A, asking) and AS64501 (B, deciding) on the real API server, each in its own namespace. */
export interface ClusterPair {
  nsA: string;
  nsB: string;
  netA: Network;
  netB: Network;
  stop(): Promise<void>;
}

/**
 * The two-network lab every Kubernetes test of the operator starts from: B first (A asks B), on a shared BGP
 * fabric, A's token for B in A's Secret `peer-as64501`. `b` tunes B's policy and operator.
 */
export async function startClusterPair(
  plane: ControlPlane,
  fabric: { driverFor(asn: number): RouterDriver },
  options: {
    prefix: string;
    a?: Pick<NetworkOptions, 'approval' | 'timeWindow' | 'extra'>;
    b?: Pick<NetworkOptions, 'approval' | 'timeWindow' | 'extra'>;
  },
): Promise<ClusterPair> {
  const [A, B] = [64500, 64501];
  const nsA = await plane.newNamespace(`${options.prefix}-a`);
  const nsB = await plane.newNamespace(`${options.prefix}-b`);
  const netB = await startClusterNetwork(plane, {
    asn: B,
    callers: [A],
    namespace: nsB,
    router: fabric.driverFor(B),
    ...options.b,
  });
  const netA = await startClusterNetwork(plane, {
    asn: A,
    callers: [B],
    namespace: nsA,
    router: fabric.driverFor(A),
    ...options.a,
  });
  await createPeerTokenSecret(plane, nsA, 'peer-as64501', A);
  return {
    nsA,
    nsB,
    netA,
    netB,
    stop: async () => {
      await netA.stop();
      await netB.stop();
    },
  };
}
