import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlane } from '../../../../test-support/kube/control-plane.js';
import { describeWithControlPlane } from '../../../../test-support/kube/describe-with-control-plane.js';
import {
  startTwoNetworks,
  type NetworkBacking,
  type TwoNetworks,
  type TwoNetworksOptions,
} from '../../../src/demo/two-networks.js';
import { kubernetesBacking } from '../../../src/operator/backing/backing.js';
import { CRDS_DIR, kubectlApply, operatorKubeClient } from '../../operator/support/cluster.js';
import { birdBinaryPath, describeWithBird } from '../../support/bird.js';
import { EXAMPLES_DIR } from '../../support/sample.js';

/**
 * The two-network lab's backing on a real API server: each network's operator in a namespace of its own,
 * authenticated as its ServiceAccount with the chart's RBAC; PeeringRequests and Secrets go in with kubectl, as
 * a user's would.
 */
export function kubeLabBacking(
  plane: () => ControlPlane,
): (network: { asn: number }) => Promise<NetworkBacking> {
  return async (network) => {
    const namespace = await plane().newNamespace(`as${network.asn}`);
    const kube = await operatorKubeClient(plane(), namespace);
    return {
      backing: kubernetesBacking(kube),
      namespace,
      putSecret: async (name, data) => {
        await kubectlApply(plane(), [
          { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: data },
        ]);
      },
      applyRequest: async (request) => {
        await kubectlApply(plane(), [request as unknown as Record<string, unknown>]);
      },
      deleteRequest: async (name) => {
        await plane().kubectl(['delete', 'peeringrequest', name, '-n', namespace, '--wait=false']);
      },
    };
  };
}

/**
 * A describe block around the two-network lab on a fresh real API server (CRDs installed, operators as their
 * ServiceAccounts), with `scenario` run on it. Without BIRD: the loud skip (or, under CI, the failure) of
 * describeWithBird, before any control plane is started.
 */
export function describeKubeLab(
  name: string,
  options: Pick<TwoNetworksOptions, 'counterRequests'>,
  scenario: (lab: () => TwoNetworks) => void,
): void {
  if (birdBinaryPath() === undefined) {
    describeWithBird(name, () => undefined);
    return;
  }
  describeWithControlPlane(name, (plane) => {
    let workDir: string | undefined;
    let lab: TwoNetworks | undefined;

    beforeAll(async () => {
      await plane().installCRDs(CRDS_DIR);
      workDir = mkdtempSync(join(tmpdir(), 'po-e2e-kube-'));
      lab = await startTwoNetworks({
        workDir,
        examplesDir: EXAMPLES_DIR,
        operators: kubeLabBacking(plane),
        ...options,
      });
    }, 120_000);
    afterAll(async () => {
      await lab?.stop();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    scenario(() => lab as TwoNetworks);
  });
}
