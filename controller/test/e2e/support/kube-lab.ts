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
import { routerAgentRbac } from '../../operator/support/rbac.js';
import { RouterAgent } from '../../../src/agent/router-agent.js';
import { KubeClient } from '../../../src/operator/backing/kube/client.js';
import { KubeResourceCollection } from '../../../src/operator/backing/kube/collection.js';
import { KubeSecretReader } from '../../../src/operator/backing/kube/secrets.js';
import { API_VERSION, PEERING_SESSION, ROUTER } from '../../../src/operator/resources/api-group.js';
import type { PeeringSession } from '../../../src/operator/resources/peering-session.js';
import type { Router } from '../../../src/operator/resources/router.js';
import { birdBinaryPath, describeWithBird } from '../../support/bird.js';
import { EXAMPLES_DIR } from '../../support/sample.js';

/**
 * The two-network lab's backing on a real API server: each network's operator in a namespace of its own,
 * authenticated as its ServiceAccount with the chart's RBAC; PeeringRequests and Secrets go in with kubectl, as
 * a user's would.
 */
export function kubeLabBacking(
  plane: () => ControlPlane,
  options: {
    /**
     * A network whose operator was installed already (by the chart): its namespace and ServiceAccount, whose
     * RBAC the operator then runs with instead of the test's copy of the chart's rules.
     */
    installed?: (asn: number) => { namespace: string; serviceAccount: string } | undefined;
  } = {},
): (network: { asn: number }) => Promise<NetworkBacking> {
  return async (network) => {
    const installed = options.installed?.(network.asn);
    const namespace = installed?.namespace ?? (await plane().newNamespace(`as${network.asn}`));
    const kube = installed
      ? await KubeClient.connect(await plane().serviceAccountKubeConfig(namespace, installed.serviceAccount))
      : await operatorKubeClient(plane(), namespace);
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
      startRouterAgent: async ({ name, kind, addresses, driver }) => {
        await kubectlApply(plane(), [
          ...routerAgentRbac(namespace),
          {
            apiVersion: API_VERSION,
            kind: 'Router',
            metadata: { name, namespace },
            spec: { driver: kind, addresses },
          },
        ]);
        const agentKube = await KubeClient.connect(
          await plane().serviceAccountKubeConfig(namespace, 'peering-router-agent'),
        );
        const agent = new RouterAgent(
          {
            sessions: new KubeResourceCollection<PeeringSession>(agentKube, PEERING_SESSION),
            routers: new KubeResourceCollection<Router>(agentKube, ROUTER),
            secrets: new KubeSecretReader(agentKube),
            driver,
          },
          { router: name, namespace, driverKind: kind, identity: `agent-${name}` },
        );
        await agent.start();
        let done = false;
        const end = async (how: 'stop' | 'kill') => {
          if (done) return;
          done = true;
          await agent[how]();
          await agentKube.close();
        };
        return { router: name, stop: () => end('stop'), kill: () => end('kill') };
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
  options: Pick<TwoNetworksOptions, 'counterRequests' | 'routerAgents' | 'operatorOptions' | 'frr'>,
  scenario: (lab: () => TwoNetworks, plane: () => ControlPlane) => void,
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

    scenario(() => lab as TwoNetworks, plane);
  });
}
