import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { REPO_ROOT } from '../support/sample.js';

const run = promisify(execFile);

export const CHART_DIR = join(REPO_ROOT, 'charts/peering-operator');
/** Builds helm from its Go module into the cache (scripts/setup.sh runs it, so CI has it). */
export const HELM_SETUP_SCRIPT = join(REPO_ROOT, 'scripts/setup.d/30-helm.sh');
/** What `helm install` finds on a cluster of 1.36 or later, and `helm template` does not assume. */
export const MUTATING_ADMISSION_POLICY = 'admissionregistration.k8s.io/v1/MutatingAdmissionPolicy';

/** Where helm comes from: a binary, a build still to do (Go is there), or nothing. */
export type HelmSource =
  { kind: 'binary'; path: string } | { kind: 'build' } | { kind: 'unavailable'; reason: string };

/** `$PEERING_HELM`, else the binary 30-helm.sh builds, else a build when Go is installed. Synchronous for jest. */
export function findHelm(env: NodeJS.ProcessEnv = process.env): HelmSource {
  const given = env.PEERING_HELM;
  if (given) {
    return isExecutable(given)
      ? { kind: 'binary', path: given }
      : { kind: 'unavailable', reason: `PEERING_HELM=${given} is not an executable file` };
  }
  const printed = spawnSync('bash', [HELM_SETUP_SCRIPT, '--print-path'], { env, encoding: 'utf8' });
  const path = printed.stdout.trim();
  if (printed.status === 0 && isExecutable(path)) return { kind: 'binary', path };
  if (spawnSync('go', ['version'], { env, stdio: 'ignore' }).status === 0) return { kind: 'build' };
  return {
    kind: 'unavailable',
    reason: `no helm binary (set PEERING_HELM, or run ${HELM_SETUP_SCRIPT}, which needs Go)`,
  };
}

/**
 * A jest `describe` whose tests get a helm binary: `helm()` gives its path. Builds it first when only Go is
 * there (minutes, once). Without helm the suite is skipped loudly, except under CI (`CI=true`), where it fails.
 *
 * @example
 * describeWithHelm('chart', (helm) => {
 *   it('lints', async () => {
 *     await lintChart(helm(), {});
 *   });
 * });
 */
export function describeWithHelm(name: string, body: (helm: () => string) => void): void {
  const source = findHelm();
  if (source.kind === 'unavailable') {
    if (process.env.CI === 'true') throw new Error(`${name}: ${source.reason} (CI=true requires helm)`);
    console.warn(`\n${'!'.repeat(100)}\n!! SKIPPED "${name}": ${source.reason}\n${'!'.repeat(100)}\n`);
    describe.skip(name, () => body(() => ''));
    return;
  }
  describe(name, () => {
    let path = source.kind === 'binary' ? source.path : undefined;
    if (source.kind === 'build') {
      beforeAll(async () => {
        const { stdout } = await run('bash', [HELM_SETUP_SCRIPT], { timeout: 30 * 60_000 });
        path = stdout.trim().split('\n').pop();
      }, 30 * 60_000);
    }
    body(() => {
      if (path === undefined) throw new Error('helm was not built (see beforeAll above)');
      return path;
    });
  });
}

/** A Kubernetes object as rendered. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export interface Rendered {
  objects: RenderedObject[];
  /** The manifest text as helm printed it. */
  text: string;
}

/** What helm said when it refused. */
export class HelmError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`helm ${args.join(' ')} failed:\n${stderr}`);
    this.name = 'HelmError';
  }
}

/**
 * Runs helm; values, when given, go through a temp file (never `--set`: its string parsing would blur what is
 * tested). Resolves to helm's output, stderr included: a rendering should print no warning.
 */
export async function runHelm(
  helm: string,
  args: readonly string[],
  values?: Record<string, unknown>,
): Promise<{ stdout: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'peering-helm-'));
  try {
    const valuesFile = join(dir, 'values.yaml');
    if (values !== undefined) await writeFile(valuesFile, stringify(values));
    const all = values === undefined ? [...args] : [...args, '--values', valuesFile];
    try {
      const { stdout, stderr } = await run(helm, all, {
        cwd: REPO_ROOT,
        timeout: 120_000,
        maxBuffer: 32 * 1024 * 1024,
        // Helm's own state folders, so a run never reads or writes the user's helm configuration.
        env: {
          ...process.env,
          HELM_CACHE_HOME: join(dir, 'cache'),
          HELM_CONFIG_HOME: join(dir, 'config'),
          HELM_DATA_HOME: join(dir, 'data'),
        },
      });
      return { stdout, stderr: stderr.trim() };
    } catch (error) {
      const failure = error as Error & { stderr?: string; stdout?: string };
      throw new HelmError(all, `${failure.stderr ?? ''}${failure.stdout ?? ''}`.trim());
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `helm template` of the chart, parsed into objects, for the Kubernetes version helm assumes without a cluster
 * (the k8s.io/client-go it was built with; 30-helm.sh sets it as upstream's build does). The values get what every
 * install must say added where they leave it out ({@link withRequiredValues}), unless `asGiven`.
 */
export async function renderChart(
  helm: string,
  values: Record<string, unknown> = {},
  options: {
    namespace?: string;
    release?: string;
    includeCrds?: boolean;
    /** What the cluster serves beyond helm's defaults (`--api-versions`), e.g. `group/version/Kind`. */
    apiVersions?: readonly string[];
    /** The values exactly as given, e.g. a user's values file: nothing required is filled in. */
    asGiven?: boolean;
  } = {},
): Promise<Rendered> {
  const args = [
    'template',
    options.release ?? 'peering',
    CHART_DIR,
    '--namespace',
    options.namespace ?? 'peering',
    ...(options.includeCrds ? ['--include-crds'] : []),
    ...(options.apiVersions ?? []).flatMap((version) => ['--api-versions', version]),
  ];
  const { stdout } = await runHelm(helm, args, options.asGiven ? values : withRequiredValues(values));
  return { objects: parseManifests(stdout), text: stdout };
}

/**
 * What the chart's values.yaml leaves to every install (issue 16): who this network is. The tests' network is
 * AS64500, the example network of the docs.
 */
export const REQUIRED_CONFIG = {
  asns: [64500],
  apiUrl: 'https://peering.example.net/v0.1',
  peeringdb: { url: 'https://www.peeringdb.com/api' },
} as const;

/**
 * The values with what an install must say added where they leave it out: the keys of {@link REQUIRED_CONFIG}
 * under `config`, and a router (the chart has none by default, issue 15: tests that are not about the router
 * render it with `none`). A key the values set, even to null, is theirs: a test about a missing value says so.
 */
export function withRequiredValues(values: Record<string, unknown>): Record<string, unknown> {
  const config = (values.config ?? {}) as Record<string, unknown>;
  return {
    ...values,
    router: values.router === undefined ? { driver: 'none' } : values.router,
    config: { ...REQUIRED_CONFIG, ...config },
  };
}

/** `helm lint --strict` of the chart; resolves to its output, throws a HelmError on any finding. */
export async function lintChart(helm: string, values: Record<string, unknown> = {}): Promise<string> {
  const { stdout } = await runHelm(helm, ['lint', CHART_DIR, '--strict'], withRequiredValues(values));
  return stdout;
}

/** The objects of a multi-document YAML text (empty documents dropped). */
export function parseManifests(text: string): RenderedObject[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0)
        throw new Error(`rendered YAML is invalid: ${document.errors[0]?.message}`);
      return document.toJS() as RenderedObject | null;
    })
    .filter((object): object is RenderedObject => object !== null);
}

/** The one object of a kind (and name, if given); fails the test when there is not exactly one. */
export function only(objects: readonly RenderedObject[], kind: string, name?: string): RenderedObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  }
  return found[0] as RenderedObject;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
