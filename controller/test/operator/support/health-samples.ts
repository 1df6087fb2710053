import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../../support/sample.js';

const run = promisify(execFile);

/** The Argo CD health checks and their samples (Argo CD's resource_customizations layout). */
export const CUSTOMIZATIONS = join(REPO_ROOT, 'argocd/resource_customizations/peering.autopeer.dev');
const LUA_TESTS = join(REPO_ROOT, 'test-support/lua');

export type SampleKind = 'PeeringRequest' | 'PeeringSession';
export type Health = 'Healthy' | 'Progressing' | 'Degraded';

interface KubeObject {
  kind: string;
  metadata: Record<string, unknown> & { generation?: number; deletionTimestamp?: string };
  status?: {
    phase?: string;
    state?: string;
    observedGeneration?: number;
    bgp?: { state?: string };
    conditions?: { type: string; status: string; reason: string }[];
    rejected?: { reason: string }[];
  };
}

export interface RecordedSample {
  kind: SampleKind;
  /** The file name under testdata/, without `.yaml`. */
  name: string;
  /** The health a person decided this situation must have: the test's claim, checked on the live object. */
  health: Health;
  object: KubeObject;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g;
const HASH = /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,10}\b/g;

/**
 * An object as the API server gave it, made stable enough to commit: server bookkeeping dropped, namespaces,
 * loopback URLs, ids, name hashes and times replaced in order of appearance, so that recording the same scenario
 * twice gives the same file except where the operator's output itself changed.
 */
export function normalizeSample(object: KubeObject, namespaces: readonly string[]): KubeObject {
  const metadata = { ...object.metadata };
  for (const key of ['managedFields', 'uid', 'resourceVersion', 'creationTimestamp', 'selfLink'])
    delete metadata[key];
  const annotations = { ...(metadata['annotations'] as Record<string, string> | undefined) };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  if (Object.keys(annotations).length > 0) metadata['annotations'] = annotations;
  else delete metadata['annotations'];
  if (metadata['ownerReferences']) {
    metadata['ownerReferences'] = (metadata['ownerReferences'] as Record<string, unknown>[]).map((o) => ({
      ...o,
      uid: '00000000-0000-4000-8000-000000000000',
    }));
  }
  let text = JSON.stringify({ ...object, metadata });
  for (const ns of namespaces) text = text.split(ns).join('peering');
  text = text.replace(/http:\/\/127\.0\.0\.1:\d+/g, 'https://peering.example.net');
  text = text.replace(/127\.0\.0\.1:\d+/g, 'peering.example.net:443');
  const renumber = (pattern: RegExp, make: (n: number) => string) => {
    const seen = new Map<string, string>();
    text = text.replace(pattern, (match) => {
      if (!seen.has(match)) seen.set(match, make(seen.size + 1));
      return seen.get(match) as string;
    });
  };
  renumber(UUID, (n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`);
  renumber(TIME, () => '2026-06-01T12:00:00Z');
  renumber(HASH, (n) => `a${String(n).padStart(9, '0')}`);
  return JSON.parse(text) as KubeObject;
}

/** What the health check reads of an object: equal shapes get equal health, whatever the messages say. */
export function sampleShape(object: KubeObject): unknown {
  const status = object.status;
  return {
    kind: object.kind,
    deleting: object.metadata.deletionTimestamp !== undefined,
    status: status !== undefined,
    current: (status?.observedGeneration ?? -1) >= (object.metadata.generation ?? 0),
    phase: status?.phase,
    state: status?.state,
    conditions: (status?.conditions ?? [])
      .map((c) => `${c.type}=${c.status}/${c.reason}`)
      .sort()
      .join(' '),
    rejected: (status?.rejected ?? []).map((r) => r.reason).join(' '),
  };
}

interface HealthTests {
  tests: { healthStatus: { status: string; message: string }; inputPath: string }[];
}

/** Runs the repository's health.lua (gopher-lua, as Argo CD does) on the samples under `root`. */
async function runHealthChecks(root: string): Promise<Map<string, { status: string; message: string }>> {
  const { stdout } = await run(
    'go',
    ['test', '-count=1', '-v', '-run', 'TestHealthChecksOnEverySample', './...'],
    {
      cwd: LUA_TESTS,
      timeout: 5 * 60_000,
      env: { ...process.env, HEALTH_SAMPLES_ROOT: root, HEALTH_PRINT: '1' },
    },
  ).catch((error: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(`health.lua on the recorded samples:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  });
  const results = new Map<string, { status: string; message: string }>();
  for (const match of stdout.matchAll(/RESULT (\S+) (\{.*\})$/gm)) {
    results.set(match[1] as string, JSON.parse(match[2] as string) as { status: string; message: string });
  }
  return results;
}

/**
 * Recorded samples against the committed ones. Recording (`RECORD_HEALTH_SAMPLES=1`) writes them as the
 * testdata of the health checks, with a health_test.yaml of the health each must have and the message the script
 * gives it. Otherwise each fresh object must have the committed sample's shape (what the script reads) and get
 * its health: the samples cannot drift from what the operator writes.
 */
export async function checkSamples(samples: readonly RecordedSample[]): Promise<string[]> {
  const problems: string[] = [];
  const root = mkdtempSync(join(tmpdir(), 'health-samples-'));
  try {
    for (const kind of ['PeeringRequest', 'PeeringSession'] as const) {
      const mine = samples.filter((s) => s.kind === kind);
      mkdirSync(join(root, 'peering.autopeer.dev', kind, 'testdata'), { recursive: true });
      for (const s of mine) {
        writeFileSync(
          join(root, 'peering.autopeer.dev', kind, 'testdata', `${s.name}.yaml`),
          stringify(s.object),
        );
      }
      const committed = committedTests(kind);
      const tests: HealthTests = {
        tests: mine.map((s) => ({
          healthStatus: {
            status: s.health,
            message: committed.get(`testdata/${s.name}.yaml`)?.message ?? '',
          },
          inputPath: `testdata/${s.name}.yaml`,
        })),
      };
      writeFileSync(join(root, 'peering.autopeer.dev', kind, 'health_test.yaml'), stringify(tests));
    }
    const results = await runHealthChecks(root);
    const resultOf = (s: RecordedSample) => results.get(`${s.kind}/testdata/${s.name}.yaml`);
    for (const s of samples) {
      const got = resultOf(s);
      if (got?.status !== s.health)
        problems.push(`${s.kind}/${s.name}: health ${got?.status} (${got?.message}), want ${s.health}`);
    }
    if (process.env['RECORD_HEALTH_SAMPLES'] === '1') {
      for (const kind of ['PeeringRequest', 'PeeringSession'] as const)
        writeCommitted(kind, samples, resultOf);
      return problems;
    }
    for (const s of samples) {
      const file = join(CUSTOMIZATIONS, s.kind, 'testdata', `${s.name}.yaml`);
      if (!existsSync(file)) {
        problems.push(`${s.kind}/${s.name}: not committed (record with RECORD_HEALTH_SAMPLES=1)`);
        continue;
      }
      const before = JSON.stringify(sampleShape(parse(readFileSync(file, 'utf8')) as KubeObject));
      const now = JSON.stringify(sampleShape(s.object));
      if (before !== now)
        problems.push(`${s.kind}/${s.name}: the operator now writes ${now}, the sample says ${before}`);
      // The message leads with the failing condition; what follows may name ids and times of this run.
      const want = committedTests(s.kind).get(`testdata/${s.name}.yaml`)?.message ?? '';
      const got = resultOf(s)?.message ?? '';
      if (leading(got) !== leading(want))
        problems.push(`${s.kind}/${s.name}: message "${got}" no longer leads like the sample's "${want}"`);
    }
    return problems;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A health message up to its first ": ": the failing condition's type, status and reason. */
function leading(message: string): string {
  const at = message.indexOf(': ');
  return at === -1 ? message : message.slice(0, at);
}

function committedTests(kind: SampleKind): Map<string, { status: string; message: string }> {
  const file = join(CUSTOMIZATIONS, kind, 'health_test.yaml');
  if (!existsSync(file)) return new Map();
  const tests = (parse(readFileSync(file, 'utf8')) as HealthTests).tests;
  return new Map(tests.map((t) => [t.inputPath, t.healthStatus]));
}

function writeCommitted(
  kind: SampleKind,
  samples: readonly RecordedSample[],
  resultOf: (s: RecordedSample) => { status: string; message: string } | undefined,
): void {
  const dir = join(CUSTOMIZATIONS, kind);
  rmSync(join(dir, 'testdata'), { recursive: true, force: true });
  mkdirSync(join(dir, 'testdata'), { recursive: true });
  const mine = samples.filter((s) => s.kind === kind);
  for (const s of mine) writeFileSync(join(dir, 'testdata', `${s.name}.yaml`), stringify(s.object));
  const header =
    "# Argo CD's own test format for resource_customizations: each sample and the health it must get.\n" +
    '# GENERATED by controller/test/operator/health-samples.test.ts (RECORD_HEALTH_SAMPLES=1) from objects the\n' +
    '# operator wrote on a real API server; that test fails when the operator no longer writes them so.\n';
  const tests: HealthTests = {
    tests: mine.map((s) => ({
      healthStatus: resultOf(s) ?? { status: s.health, message: '' },
      inputPath: `testdata/${s.name}.yaml`,
    })),
  };
  writeFileSync(join(dir, 'health_test.yaml'), header + stringify(tests));
}
