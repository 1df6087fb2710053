import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ControlPlane } from '../../../../test-support/kube/control-plane.js';
import { KubeClient } from '../../../src/operator/backing/kube/client.js';
import type { OperatorMetrics } from '../../../src/operator/runtime/metrics.js';
import { chartRbac } from './rbac.js';

export const CRDS_DIR = resolve(import.meta.dirname, '../../../../crds');

/** `kubectl apply` of some objects (as the admin); resolves with kubectl's output, rejects with its error. */
export async function kubectlApply(
  plane: ControlPlane,
  objects: readonly object[],
  extraArgs: string[] = [],
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'peering-apply-'));
  try {
    const file = join(dir, 'objects.yaml');
    writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
    return (await plane.kubectl(['apply', '-f', file, ...extraArgs])).stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A Kubernetes client for the operator in `namespace`, authenticated as its ServiceAccount with exactly the
 * rules of the chart's rbac-rules.yaml — never as an administrator.
 */
export async function operatorKubeClient(
  plane: ControlPlane,
  namespace: string,
  options: { metrics?: OperatorMetrics } = {},
): Promise<KubeClient> {
  await kubectlApply(plane, chartRbac(namespace));
  const kubeConfig = await plane.serviceAccountKubeConfig(namespace, 'peering-operator');
  return KubeClient.connect(kubeConfig, { metrics: options.metrics });
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  what = 'the condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One object as `kubectl get -o json` shows it, or undefined when there is none. */
export async function getObject<T>(
  plane: ControlPlane,
  kind: string,
  namespace: string,
  name: string,
): Promise<T | undefined> {
  const out = await plane.kubectl(['get', kind, name, '-n', namespace, '-o', 'json']).catch(() => undefined);
  return out ? (JSON.parse(out.stdout) as T) : undefined;
}

/** The objects of a kind in a namespace (`kubectl get -o json`), optionally by label selector. */
export async function listObjects<T>(
  plane: ControlPlane,
  kind: string,
  namespace: string,
  selector?: string,
): Promise<T[]> {
  const { stdout } = await plane.kubectl([
    'get',
    kind,
    '-n',
    namespace,
    '-o',
    'json',
    ...(selector ? ['-l', selector] : []),
  ]);
  return (JSON.parse(stdout) as { items: T[] }).items;
}
