import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import { startTwoNetworks, type TwoNetworks } from '../../src/demo/two-networks.js';
import { kubernetesBacking } from '../../src/operator/backing/backing.js';
import { birdBinaryPath, describeWithBird } from '../support/bird.js';
import { EXAMPLES_DIR } from '../support/sample.js';
import { CRDS_DIR, kubectlApply, operatorKubeClient } from '../operator/support/cluster.js';
import { counterRequestScenario } from './support/counter-scenario.js';

// The counter-request of counter-request.test.ts, each operator on the real API server in a namespace of its own,
// authenticated as its ServiceAccount with the chart's RBAC (which must let it create the counter-request);
// PeeringRequest and Secrets go in with kubectl.
const NAME =
  'the counter-request (return_url) on Kubernetes: AS64500 asks for IPv4, AS64501 asks back for IPv6';

// Without BIRD: the loud skip (or, under CI, the failure) of describeWithBird, before starting a control plane.
if (birdBinaryPath() === undefined) describeWithBird(NAME, () => undefined);
else
  describeWithControlPlane(NAME, (plane) => {
    let workDir: string;
    let lab: TwoNetworks | undefined;

    beforeAll(async () => {
      await plane().installCRDs(CRDS_DIR);
      workDir = mkdtempSync(join(tmpdir(), 'po-counter-kube-'));
      lab = await startTwoNetworks({
        workDir,
        examplesDir: EXAMPLES_DIR,
        counterRequests: true,
        operators: async (network) => {
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
        },
      });
    }, 120_000);
    afterAll(async () => {
      await lab?.stop();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    counterRequestScenario(() => lab as TwoNetworks);
  });
