import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

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

/** Times one piece of work: `{ label, ms, result }`. */
export async function time(label, work) {
  const started = performance.now();
  const result = await work();
  return { label, ms: performance.now() - started, result };
}

/**
 * Prints a benchmark's figures under `title`, each against its target when it has one, and sets the exit code:
 * 1 when a target was missed.
 */
export function reportFigures(title, figures) {
  console.log(`\n${title}\n`);
  for (const { label, ms, target } of figures) {
    const verdict =
      target === undefined
        ? ''
        : ms <= target
          ? `  (target <= ${target} ms: met)`
          : `  (target <= ${target} ms: MISSED)`;
    console.log(`${ms.toFixed(0).padStart(8)} ms  ${label}${verdict}`);
  }
  const missed = figures.filter((f) => f.target !== undefined && f.ms > f.target);
  process.exitCode = missed.length === 0 ? 0 : 1;
}
