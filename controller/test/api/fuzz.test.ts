import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { EXAMPLES_DIR, REPO_ROOT } from '../support/sample.js';

const execFileAsync = promisify(execFile);
const SETUP = join(REPO_ROOT, 'scripts', 'setup.d', '50-schemathesis.sh');
const CONFIG = join(REPO_ROOT, 'test-support', 'schemathesis', 'schemathesis.toml');
const TOKEN = 'token-as64501-fuzzer-00000001';

/** The virtual environment `scripts/setup.d/50-schemathesis.sh` installs (it prints its path). */
function environment(): string | undefined {
  const printed = spawnSync('bash', [SETUP, '--print-path'], { encoding: 'utf8' });
  const dir = printed.stdout.trim().split('\n').pop() ?? '';
  return existsSync(join(dir, '.complete')) ? dir : undefined;
}

const venv = environment();
const required = process.env.CI === 'true' || process.env.PEERING_REQUIRE_SAMPLE === '1';
const NAME = 'schemathesis and an independent OpenAPI validator against the real server';

if (venv === undefined && !required) {
  console.warn(
    `\n*** SKIPPING "${NAME}": schemathesis is not installed: run scripts/setup.d/50-schemathesis.sh ***\n`,
  );
  describe.skip(`${NAME} (schemathesis not installed)`, () => undefined);
} else {
  describe(NAME, () => {
    let api: TestApi;
    let reports: string;

    beforeAll(async () => {
      if (venv === undefined)
        throw new Error('schemathesis is required here (CI): scripts/setup.d/50-schemathesis.sh');
      // AS64500 serves; the token is AS64501's, and both are at exchange 1 of examples/peeringdb, so that
      // positive cases (the document's request example among them) can really be accepted.
      api = await startTestApi({
        config: { asns: [64500], limits: { requestsPerMinute: 0 } },
        peeringDbDir: join(EXAMPLES_DIR, 'peeringdb'),
        tokens: [{ token: TOKEN, subject: 'fuzzer@as64501', networks: [{ asn: 64501, perms: 15 }] }],
      });
      reports = mkdtempSync(join(tmpdir(), 'po-fuzz-'));
    });
    afterAll(async () => {
      await api?.stop();
      if (reports) rmSync(reports, { recursive: true, force: true });
    });

    test('openapi-spec-validator accepts the checked-in and the served document', async () => {
      const validator = join(venv!, 'bin', 'openapi-spec-validator');
      const checkedIn = await execFileAsync(validator, [join(REPO_ROOT, 'openapi', 'peering-api.json')]);
      expect(checkedIn.stdout).toMatch(/OK/);
      // The validator reads files only: the served document goes through one.
      const served = join(reports, 'served.json');
      writeFileSync(served, await (await fetch(`${api.baseUrl}/openapi.json`)).text());
      expect((await execFileAsync(validator, [served])).stdout).toMatch(/OK/);
    });

    test('every operation, every check, examples to stateful: no failure', async () => {
      const args = [
        '--config-file',
        CONFIG,
        'run',
        `${api.baseUrl}/openapi.json`,
        '--checks',
        'all',
        '--phases',
        'examples,coverage,fuzzing,stateful',
        '--header',
        `Authorization: Bearer ${TOKEN}`,
        '--max-examples',
        process.env.PEERING_FUZZ_EXAMPLES ?? '50',
        '--max-time',
        process.env.PEERING_FUZZ_SECONDS ?? '150',
        '--continue-on-failure',
        '--seed',
        process.env.PEERING_FUZZ_SEED ?? '14',
        '--no-color',
        '--report',
        'junit',
        '--report-dir',
        reports,
      ];
      // Asynchronously: the server under test runs in this very process.
      const run = await execFileAsync(join(venv!, 'bin', 'st'), args, {
        cwd: reports,
        maxBuffer: 64 * 1024 * 1024,
      }).then(
        ({ stdout, stderr }) => ({ status: 0, output: `${stdout}\n${stderr}` }),
        (error: { code?: number; stdout?: string; stderr?: string }) => ({
          status: error.code ?? 1,
          output: `${error.stdout ?? ''}\n${error.stderr ?? ''}`,
        }),
      );
      const output = run.output;
      // The summary names each phase and the counts; on failure the whole report is the message.
      if (run.status !== 0) throw new Error(`schemathesis found failures (exit ${run.status}):\n${output}`);
      expect(output).toMatch(/Selected: 6\/6/);
      expect(output).toMatch(/Tested: 6/);
      expect(output).toMatch(/✅ Stateful/);
      expect(output).not.toMatch(/❌/);
    }, 600_000);
  });
}
