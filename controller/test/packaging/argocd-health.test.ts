import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { SESSION_STATUSES } from '../../src/domain/session.js';
import {
  PeeringRequestSpecSchema,
  PeeringRequestStatusSchema,
  REQUEST_PHASES,
} from '../../src/operator/resources/peering-request.js';
import {
  PeeringSessionSpecSchema,
  PeeringSessionStatusSchema,
} from '../../src/operator/resources/peering-session.js';
import { REPO_ROOT } from '../support/sample.js';

const run = promisify(execFile);
const CUSTOMIZATIONS = join(REPO_ROOT, 'argocd/resource_customizations/peering.autopeer.dev');
const LUA_TESTS = join(REPO_ROOT, 'test-support/lua');

interface Sample {
  file: string;
  expected: { status: string; message?: string };
  object: {
    kind: string;
    metadata: { generation?: number; deletionTimestamp?: string };
    spec: unknown;
    status?: {
      state?: string;
      phase?: string;
      observedGeneration?: number;
      conditions?: { type: string; status: string }[];
    };
  };
}

/** The samples of a kind's health_test.yaml (Argo CD's format), with the health each must get. */
function samples(kind: 'PeeringRequest' | 'PeeringSession'): Sample[] {
  const dir = join(CUSTOMIZATIONS, kind);
  const { tests } = parse(readFileSync(join(dir, 'health_test.yaml'), 'utf8')) as {
    tests: { healthStatus: Sample['expected']; inputPath: string }[];
  };
  return tests.map((t) => ({
    file: t.inputPath,
    expected: t.healthStatus,
    object: parse(readFileSync(join(dir, t.inputPath), 'utf8')) as Sample['object'],
  }));
}

/** A sample whose status is current and that is not being deleted: its state or phase decides. */
const decided = (s: Sample): boolean =>
  s.object.metadata.deletionTimestamp === undefined &&
  s.object.status?.observedGeneration !== undefined &&
  s.object.status.observedGeneration >= (s.object.metadata.generation ?? 0);
const ready = (s: Sample): boolean =>
  s.object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

const hasGo = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
if (!hasGo && process.env.CI === 'true') throw new Error('Go is required (CI=true) to run test-support/lua');
if (!hasGo) console.warn('\n!!!! SKIPPED: the Argo CD health checks need Go (gopher-lua) to run !!!!\n');

describe('Argo CD health checks', () => {
  (hasGo ? it : it.skip)(
    "pass on every sample in gopher-lua, set up as Argo CD's controller sets it up (go test)",
    async () => {
      const { stdout } = await run('go', ['test', '-count=1', '-v', './...'], {
        cwd: LUA_TESTS,
        timeout: 5 * 60_000,
      }).catch((error: Error & { stdout?: string; stderr?: string }) => {
        throw new Error(`go test in test-support/lua failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
      });
      const passed = stdout.match(/^ {4}--- PASS: TestHealthChecksOnEverySample\//gm) ?? [];
      expect(passed.length).toBe(samples('PeeringRequest').length + samples('PeeringSession').length);
      expect(stdout).toMatch(/^--- PASS: TestTheVMIsAsRestrictedAsArgoCDs/m);
      expect(stdout).toMatch(/^--- PASS: TestArgoCDConfigMapCarriesTheseScripts/m);
    },
    6 * 60_000,
  );

  it.each(['PeeringRequest', 'PeeringSession'] as const)(
    '%s samples are objects the operator could have written',
    (kind) => {
      const [spec, status] =
        kind === 'PeeringRequest'
          ? [PeeringRequestSpecSchema, PeeringRequestStatusSchema]
          : [PeeringSessionSpecSchema, PeeringSessionStatusSchema];
      for (const sample of samples(kind)) {
        expect({ file: sample.file, kind: sample.object.kind }).toEqual({ file: sample.file, kind });
        const checked = [spec.safeParse(sample.object.spec), status.safeParse(sample.object.status ?? {})];
        for (const result of checked) {
          if (!result.success) throw new Error(`${kind}/${sample.file}: ${result.error.message}`);
        }
      }
    },
  );

  // Samples are recorded from the operator (controller/test/operator/health-samples.test.ts). What cannot be
  // recorded there: `Requesting` (a POST in flight lasts milliseconds), a session `rejected` after it was agreed
  // (our API server never does that; another network's might) and one `approved` but not yet on the router
  // (it is configured in the same reconcile).
  const UNRECORDED = new Set(['Requesting', 'rejected', 'approved']);
  const readyReason = (s: Sample): string | undefined =>
    (s.object.status?.conditions as { type: string; status: string; reason?: string }[] | undefined)?.find(
      (c) => c.type === 'Ready',
    )?.reason;
  const broken = (s: Sample): boolean =>
    !ready(s) && ['BgpDown', 'DuplicateSession', 'InvalidSpec'].includes(readyReason(s) ?? '');

  it('cover every session state, with the health the issue asks for', () => {
    const sessions = samples('PeeringSession').filter(decided);
    for (const state of SESSION_STATUSES.filter((s) => !UNRECORDED.has(s))) {
      expect({ state, covered: sessions.some((s) => s.object.status?.state === state) }).toEqual({
        state,
        covered: true,
      });
    }
    for (const s of sessions) {
      const state = s.object.status?.state ?? '';
      const want =
        ['rejected', 'unestablished', 'down'].includes(state) || broken(s)
          ? 'Degraded'
          : ready(s)
            ? 'Healthy'
            : 'Progressing';
      expect({ file: s.file, health: s.expected.status }).toEqual({ file: s.file, health: want });
      if (want === 'Degraded') expect(s.expected.message).toEqual(expect.stringMatching(/\S/));
    }
  });

  it('cover every request phase, with Degraded for rejections, expiry, failure and BGP lost', () => {
    const all = samples('PeeringRequest');
    for (const phase of REQUEST_PHASES.filter((p) => !UNRECORDED.has(p))) {
      expect({ phase, covered: all.some((s) => s.object.status?.phase === phase) }).toEqual({
        phase,
        covered: true,
      });
    }
    for (const s of all.filter(decided)) {
      const phase = s.object.status?.phase ?? '';
      const want =
        ['Rejected', 'PartiallyRejected', 'Expired', 'Failed'].includes(phase) || broken(s)
          ? 'Degraded'
          : ready(s)
            ? 'Healthy'
            : 'Progressing';
      expect({ file: s.file, health: s.expected.status }).toEqual({ file: s.file, health: want });
    }
  });

  it('say Progressing, not a stale verdict, while the status lags the spec or the object is being deleted', () => {
    for (const kind of ['PeeringRequest', 'PeeringSession'] as const) {
      const undecided = samples(kind).filter((s) => !decided(s));
      expect(undecided.length).toBeGreaterThanOrEqual(3);
      for (const s of undecided)
        expect({ file: s.file, health: s.expected.status }).toEqual({
          file: s.file,
          health: 'Progressing',
        });
    }
  });
});
