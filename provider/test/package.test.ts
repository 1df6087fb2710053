import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../controller/test/support/sample.js';

const run = promisify(execFile);
const TSC = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');

/**
 * What a user of the constructs does: a project of their own, outside this checkout, installs the packed
 * tarball (`npm pack`) from npm's point of view, imports `peering-operator/provider`, type-checks against its
 * declarations and synthesizes. Needs `npm run build` first (npm test runs it) and the npm registry for the
 * package's dependencies.
 */
describe('the constructs as an installed package', () => {
  let project: string;

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist/provider/src/index.d.ts')))
      throw new Error('dist/provider/src is missing: run npm run build first');
    project = mkdtempSync(join(tmpdir(), 'peering-user-project-'));
    const { stdout } = await run('npm', ['pack', '--pack-destination', project, '--silent'], {
      cwd: REPO_ROOT,
    });
    const tarball = join(project, stdout.trim().split('\n').pop() as string);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'our-peering',
        private: true,
        type: 'module',
        dependencies: { 'peering-operator': `file:${tarball}` },
      }),
    );
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: project,
      timeout: 15 * 60_000,
    });
  }, 16 * 60_000);

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('type-checks a TypeScript app against the package’s declarations, and refuses a wrong prop type', async () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
        },
        include: ['*.ts'],
      }),
    );
    writeFileSync(
      join(project, 'main.ts'),
      [
        "import { App, TerraformStack } from 'cdktf';",
        "import { PeeringRequest, type PeeringRequestProps } from 'peering-operator/provider';",
        'const props: PeeringRequestProps = {',
        "  localAsn: 13335, peerAsn: 15169, apiUrl: 'https://peering.as15169.example/v0.1',",
        "  sessions: [{ name: 'v4', location: 'pdb:ix:26', localIp: '80.249.211.140', peerIp: '80.249.208.247' }],",
        '};',
        "new PeeringRequest(new TerraformStack(new App(), 'peering'), 'google', props);",
        '',
      ].join('\n'),
    );
    await run(process.execPath, [TSC, '-p', project]);
    writeFileSync(
      join(project, 'main.ts'),
      readFileSync(join(project, 'main.ts'), 'utf8').replace('localAsn: 13335', "localAsn: '13335'"),
    );
    const failed = await run(process.execPath, [TSC, '-p', project]).then(
      () => undefined,
      (error: { stdout: string }) => error.stdout,
    );
    expect(failed).toMatch(/main\.ts.*error TS2322: Type 'string' is not assignable to type 'number'/);
  }, 120_000);

  it('synthesizes a stack with peering_session resources from `import … from "peering-operator/provider"`', async () => {
    writeFileSync(
      join(project, 'app.mjs'),
      [
        "import { App, TerraformStack } from 'cdktf';",
        "import { PeeringSession } from 'peering-operator/provider';",
        "const app = new App({ outdir: 'cdktf.out' });",
        "const stack = new TerraformStack(app, 'peering');",
        "new PeeringSession(stack, 'google-v4', { localAsn: 13335, peerAsn: 15169,",
        "  apiUrl: 'https://peering.as15169.example/v0.1', location: 'pdb:ix:26',",
        "  localIp: '80.249.211.140', peerIp: '80.249.208.247', tokenEnv: 'PEERING_TOKEN_AS15169' });",
        'app.synth();',
        '',
      ].join('\n'),
    );
    await run(process.execPath, ['app.mjs'], { cwd: project });
    const json = JSON.parse(readFileSync(join(project, 'cdktf.out/stacks/peering/cdk.tf.json'), 'utf8')) as {
      terraform: { required_providers: Record<string, { source: string }> };
      resource: { peering_session: Record<string, { peer_ip: string; provider: string }> };
    };
    expect(json.terraform.required_providers['peering']?.source).toBe('peering-operator/peering');
    expect(json.resource.peering_session['peering_as13335_as15169_ix26_google_v4']).toMatchObject({
      peer_ip: '80.249.208.247',
      provider: 'peering.peering_token_as15169',
    });
  }, 60_000);
});
