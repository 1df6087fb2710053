import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json: test support runs from controller/test/ (jest) and from dist/ (benchmarks). */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (package.json) above this file');
    dir = parent;
  }
  return dir;
}

const repoRoot = repositoryRoot();

/**
 * The real PeeringDB sample (2022) lives outside the repository (PeeringDB forbids redistribution):
 * `$PEERINGDB_SAMPLE_DIR`, else `../shared/peeringdb/snapshot-2022-06-01` beside the checkout.
 */
export function peeringDbSampleDir(): string | undefined {
  const dir =
    process.env.PEERINGDB_SAMPLE_DIR ?? join(repoRoot, '..', 'shared', 'peeringdb', 'snapshot-2022-06-01');
  if (existsSync(join(dir, 'netixlan.json'))) return dir;
  if (process.env.PEERING_REQUIRE_SAMPLE === '1') {
    throw new Error(`PeeringDB sample data not found at ${dir} (set PEERINGDB_SAMPLE_DIR); CI requires it`);
  }
  console.warn(
    `\n*** SKIPPING: PeeringDB sample data not found at ${dir}; set PEERINGDB_SAMPLE_DIR to run these tests ***\n`,
  );
  return undefined;
}

/** `describe` when the sample is present, a loud `describe.skip` otherwise. */
export function describeWithSample(name: string, body: (sampleDir: string) => void): void {
  const dir = peeringDbSampleDir();
  if (dir === undefined) describe.skip(`${name} (no PeeringDB sample)`, () => undefined);
  else describe(name, () => body(dir));
}

export const EXAMPLES_DIR = join(repoRoot, 'examples');
export const REPO_ROOT = repoRoot;
