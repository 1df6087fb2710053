import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ControlPlaneBuildError } from './errors.js';

/** build.sh next to this file builds kube-apiserver and etcd into the cache. */
export const BUILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'build.sh');

/**
 * Where the API server for the tests comes from, decided once from the
 * environment:
 *
 * - `binaries`: kube-apiserver and etcd in `dir`, from `KUBEBUILDER_ASSETS` or
 *   from the build cache; the harness starts them.
 * - `build`: no binaries yet but Go is there; build.sh builds them first.
 * - `existing`: a running cluster named by `KUBECONFIG`.
 * - `unavailable`: none of these; `reason` says what is missing.
 */
export type ControlPlaneSource =
  | { readonly kind: 'binaries'; readonly dir: string; readonly origin: 'KUBEBUILDER_ASSETS' | 'cache' }
  | { readonly kind: 'build'; readonly dir: string }
  | { readonly kind: 'existing'; readonly kubeconfig: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

/**
 * Decides where the control plane comes from. Synchronous, so a test file can
 * choose between `describe` and `describe.skip` while jest collects tests.
 *
 * Order: `PEERING_CONTROL_PLANE=existing|local` forces a kind; otherwise
 * `KUBEBUILDER_ASSETS`, then `KUBECONFIG`, then the build cache, then Go.
 */
export function findControlPlaneSource(env: NodeJS.ProcessEnv = process.env): ControlPlaneSource {
  const forced = env['PEERING_CONTROL_PLANE'];
  if (forced !== undefined && forced !== '' && forced !== 'local' && forced !== 'existing') {
    return {
      kind: 'unavailable',
      reason: `PEERING_CONTROL_PLANE=${forced} is neither "local" nor "existing"`,
    };
  }

  const kubeconfig = env['KUBECONFIG'];
  if (forced === 'existing') {
    return kubeconfig
      ? { kind: 'existing', kubeconfig }
      : { kind: 'unavailable', reason: 'PEERING_CONTROL_PLANE=existing but KUBECONFIG is not set' };
  }

  const assets = env['KUBEBUILDER_ASSETS'];
  if (assets) {
    const missing = ['kube-apiserver', 'etcd'].filter((binary) => !isExecutable(join(assets, binary)));
    return missing.length === 0
      ? { kind: 'binaries', dir: assets, origin: 'KUBEBUILDER_ASSETS' }
      : {
          kind: 'unavailable',
          reason: `KUBEBUILDER_ASSETS=${assets} has no executable ${missing.join(' or ')}`,
        };
  }

  if (kubeconfig && forced !== 'local') return { kind: 'existing', kubeconfig };

  const cache = spawnSync('bash', [BUILD_SCRIPT, '--print-dir'], { env, encoding: 'utf8' });
  const dir = cache.status === 0 ? cache.stdout.trim() : '';
  if (dir === '') {
    return {
      kind: 'unavailable',
      reason: `${BUILD_SCRIPT} --print-dir failed: ${cache.stderr || cache.error?.message}`,
    };
  }
  if (isExecutable(join(dir, 'kube-apiserver')) && isExecutable(join(dir, 'etcd'))) {
    return { kind: 'binaries', dir, origin: 'cache' };
  }
  if (spawnSync('go', ['version'], { env, stdio: 'ignore' }).status === 0) return { kind: 'build', dir };
  return {
    kind: 'unavailable',
    reason:
      `no kube-apiserver/etcd in ${dir}, and Go is not installed to build them. ` +
      'Install Go >= 1.26, or set KUBEBUILDER_ASSETS to a folder holding kube-apiserver and etcd, ' +
      'or set KUBECONFIG to an existing cluster',
  };
}

/**
 * Runs build.sh and resolves with the folder holding the binaries. Concurrent
 * callers are serialised by build.sh's lock; the first build takes minutes.
 */
export async function buildBinaries(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // A long silent pause in a test run needs explaining.
      process.stderr.write(chunk);
    });
    child.once('error', (error) =>
      reject(new ControlPlaneBuildError(`could not run ${BUILD_SCRIPT}: ${error.message}`)),
    );
    child.once('exit', (code) => {
      const dir = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && dir !== '') resolve(dir);
      else
        reject(
          new ControlPlaneBuildError(
            `${BUILD_SCRIPT} exited ${code}:\n${stderr.split('\n').slice(-30).join('\n')}`,
          ),
        );
    });
  });
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
