import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The folder of the test control plane's binaries (kube-apiserver, etcd): KUBEBUILDER_ASSETS, or what the
 * harness's build script prints (it builds them once). The script lives next to its sources, not in dist/.
 */
export function controlPlaneBinaries(root) {
  return (
    process.env.KUBEBUILDER_ASSETS ??
    spawnSync('bash', [join(root, 'test-support/kube/build.sh')], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .pop()
  );
}
