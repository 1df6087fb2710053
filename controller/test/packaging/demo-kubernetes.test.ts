import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import { REPO_ROOT } from '../support/sample.js';
import { describeWithHelm } from './helm.js';

const run = promisify(execFile);

/** docs/demo.md runs scripts/demo-kubernetes.sh; so does this test, on the suite's real API server. */
describeWithHelm('the Kubernetes demo script of docs/demo.md', (helm) => {
  describeWithControlPlane('on a real API server', (plane) => {
    it('peers AS64500 with AS64501, each operator as its release’s ServiceAccount, and de-peers', async () => {
      const work = mkdtempSync(join(tmpdir(), 'peering-k8s-demo-test-'));
      try {
        const kubeconfig = join(work, 'admin.kubeconfig');
        writeFileSync(kubeconfig, plane().kubeConfig.exportConfig(), { mode: 0o600 });
        const { stdout } = await run('bash', [join(REPO_ROOT, 'scripts/demo-kubernetes.sh')], {
          cwd: REPO_ROOT,
          env: { ...process.env, KUBECONFIG: kubeconfig, HELM: helm(), WORK_DIR: join(work, 'demo') },
          timeout: 150_000,
        }).catch((error: Error & { stdout?: string; stderr?: string }) => {
          throw new Error(`demo-kubernetes.sh failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
        });
        expect(stdout).toMatch(/create token peering-operator/);
        // Both sides saw the session, as their own ServiceAccounts wrote it.
        expect(stdout).toMatch(
          /peeringsession\.peering\.autopeer\.dev\/as64501-ix1-\w+ +64501 +pdb:ix:1 +192\.0\.2\.1/,
        );
        expect(stdout).toMatch(
          /peeringsession\.peering\.autopeer\.dev\/as64500-ix1-\w+ +64500 +pdb:ix:1 +192\.0\.2\.2/,
        );
        expect(stdout).toMatch(/NoRouter/);
        expect(stdout).toMatch(/^AS64501 has 0 PeeringSession\(s\) left; AS64500 has 0$/m);
        expect(stdout).toMatch(/^done: AS64500 and AS64501 peered and de-peered/m);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }, 180_000);
  });
});
