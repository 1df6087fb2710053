import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { freeLoopbackPorts } from '../../../test-support/kube/control-plane.js';
import { REPO_ROOT } from '../support/sample.js';

const run = promisify(execFile);

/**
 * The container image without a Docker daemon: the stages of the Dockerfile repeated in temporary folders, from
 * the Dockerfile's own COPY instructions and .dockerignore, then the runtime folder (production dependencies
 * only) run for real. `npm ci --omit=dev` compiles better-sqlite3, which takes minutes on two cores, so this runs
 * in CI (CI=true) or on request (PEERING_TEST_PACKAGING=1) only.
 */
const ENABLED = process.env.CI === 'true' || process.env.PEERING_TEST_PACKAGING === '1';
if (!ENABLED) {
  console.warn(
    '\n!!!! SKIPPED production build: it runs `npm ci --omit=dev` (minutes); set PEERING_TEST_PACKAGING=1 (CI runs it) !!!!\n',
  );
}

interface Copy {
  from?: string;
  sources: string[];
  destination: string;
}
interface Stage {
  name: string;
  workdir: string;
  copies: Copy[];
  runs: string[];
  user?: string;
  entrypoint?: string;
}

/** The stages of the Dockerfile: FROM, WORKDIR, COPY, RUN, USER, ENTRYPOINT (continuation lines joined). */
export function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [instruction = '', ...rest] = line.split(/\s+/);
    const stage = stages.at(-1);
    switch (instruction.toUpperCase()) {
      case 'FROM':
        stages.push({
          name: /\sAS\s+(\S+)/i.exec(line)?.[1] ?? 'runtime',
          workdir: '/',
          copies: [],
          runs: [],
        });
        break;
      case 'WORKDIR':
        if (stage) stage.workdir = rest[0] ?? '/';
        break;
      case 'COPY': {
        const from = rest.find((word) => word.startsWith('--from='))?.slice('--from='.length);
        const paths = rest.filter((word) => !word.startsWith('--'));
        stage?.copies.push({ from, sources: paths.slice(0, -1), destination: paths.at(-1) ?? '' });
        break;
      }
      case 'RUN':
        stage?.runs.push(rest.join(' '));
        break;
      case 'USER':
        if (stage) stage.user = rest[0];
        break;
      case 'ENTRYPOINT':
        if (stage) stage.entrypoint = rest.join(' ');
        break;
    }
  }
  return stages;
}

/** .dockerignore as Docker reads it for our allow-list: the last matching line wins, `!` lets a path in. */
function ignoredByDocker(path: string, rules: string[]): boolean {
  let ignored = false;
  for (const rule of rules) {
    const negated = rule.startsWith('!');
    const pattern = negated ? rule.slice(1) : rule;
    if (pattern === '*' || path === pattern || path.startsWith(`${pattern}/`)) ignored = !negated;
  }
  return ignored;
}

const dockerfile = parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
const ignoreRules = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

function stage(name: string): Stage {
  const found = dockerfile.find((s) => s.name === name);
  if (found === undefined) throw new Error(`the Dockerfile has no stage ${name}`);
  return found;
}

/** Copies a path of the build context as `docker build` would, leaving out what .dockerignore leaves out. */
async function copyFromContext(source: string, target: string): Promise<void> {
  const path = source.replace(/\/$/, '');
  if (ignoredByDocker(path, ignoreRules))
    throw new Error(`.dockerignore keeps ${path} out of the build context`);
  await mkdir(dirname(target), { recursive: true });
  await cp(join(REPO_ROOT, path), target, {
    recursive: true,
    filter: (from) => !ignoredByDocker(relative(REPO_ROOT, from), ignoreRules),
  });
}

/** Carries out a stage's COPY instructions into `root` (the stage's filesystem); `roots` maps earlier stages. */
async function copyInto(root: string, target: Stage, roots: Record<string, string>): Promise<void> {
  const inStage = (dir: string, path: string) => join(root, path.startsWith('/') ? path : join(dir, path));
  for (const copy of target.copies) {
    for (const source of copy.sources) {
      const destination = copy.destination.endsWith('/')
        ? join(inStage(target.workdir, copy.destination), source.split('/').pop() ?? source)
        : inStage(target.workdir, copy.destination);
      if (copy.from === undefined) {
        await copyFromContext(source, destination);
      } else {
        const fromRoot = roots[copy.from];
        if (fromRoot === undefined) throw new Error(`COPY --from=${copy.from}: stage not built`);
        await mkdir(dirname(destination), { recursive: true });
        await cp(join(fromRoot, source), destination, { recursive: true });
      }
    }
  }
}

(ENABLED ? describe : describe.skip)('production build (the Dockerfile, without Docker)', () => {
  let work: string;
  let app: string;
  let bin: string;
  const env = () => ({ ...process.env, NODE_ENV: 'production', PATH: `${bin}:${process.env.PATH ?? ''}` });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'peering-image-'));
    const roots = { build: join(work, 'build'), deps: join(work, 'deps') };
    app = join(work, 'runtime');
    bin = join(work, 'bin');

    // Stage "build": the repository's full node_modules stand in for its `npm ci` (same lock file).
    const build = stage('build');
    await copyInto(roots.build, build, roots);
    const src = join(roots.build, build.workdir);
    await symlink(join(REPO_ROOT, 'node_modules'), join(src, 'node_modules'));
    expect(build.runs).toContain('npx tsc -p tsconfig.json');
    await run(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
      cwd: src,
      timeout: 5 * 60_000,
    });

    // Stage "deps": production dependencies only, installed for real from the lock file.
    const deps = stage('deps');
    expect(deps.runs.some((r) => r.startsWith('npm ci --omit=dev'))).toBe(true);
    await copyInto(roots.deps, deps, roots);
    await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], {
      cwd: join(roots.deps, deps.workdir),
      timeout: 15 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });

    // The runtime stage, and its two commands on PATH as the image links them.
    const runtime = stage('runtime');
    await copyInto(app, runtime, roots);
    app = join(app, runtime.workdir);
    await mkdir(bin);
    for (const command of ['peering-operator', 'peeringctl']) {
      const script = join(app, 'dist/controller/src/cli', `${command}.js`);
      await chmod(script, 0o755);
      await symlink(script, join(bin, command));
    }
  }, 20 * 60_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('runs as a numeric non-root user with peering-operator as its entry point', () => {
    const runtime = stage('runtime');
    expect(runtime.user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    expect(runtime.entrypoint).toBe('["peering-operator"]');
    expect(runtime.copies.some((c) => c.from === 'build')).toBe(true);
  });

  it('holds production dependencies only', async () => {
    const installed = await readdir(join(app, 'node_modules'));
    expect(installed).toEqual(expect.arrayContaining(['fastify', 'better-sqlite3', 'zod', 'commander']));
    for (const devOnly of ['typescript', 'jest', 'eslint', 'prettier', 'ts-jest', 'autocannon']) {
      expect({ devOnly, installed: installed.includes(devOnly) }).toEqual({ devOnly, installed: false });
    }
    expect(existsSync(join(app, 'controller'))).toBe(false);
    expect(await readdir(join(app, 'examples'))).toEqual([
      'issuer-accounts.yaml',
      'peering-operator.yaml',
      'peeringdb',
    ]);
  });

  it('answers --help for peering-operator and peeringctl', async () => {
    const operator = await run('peering-operator', ['--help'], { cwd: app, env: env() });
    expect(operator.stdout).toMatch(/Usage: peering-operator/);
    expect(operator.stdout).toMatch(/serve/);
    const ctl = await run('peeringctl', ['--help'], { cwd: app, env: env() });
    expect(ctl.stdout).toMatch(/Usage: peeringctl/);
  });

  it('serves the example configuration and answers GET /healthz', async () => {
    const { port } = await freeLoopbackPorts(['port']);
    const dataDir = join(work, 'data');
    const server = spawn(
      'peering-operator',
      [
        'serve',
        '--config',
        'examples/peering-operator.yaml',
        '--listen',
        `127.0.0.1:${port}`,
        '--data-dir',
        dataDir,
      ],
      { cwd: app, env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    try {
      const deadline = Date.now() + 30_000;
      let answer: Response | undefined;
      while (answer === undefined && Date.now() < deadline) {
        if (server.exitCode !== null) throw new Error(`serve exited (${server.exitCode}):\n${output}`);
        answer = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (answer === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (answer === undefined) throw new Error(`no answer on /healthz within 30 s:\n${output}`);
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ status: 'ok' });
      const openapi = await fetch(`http://127.0.0.1:${port}/v0.1/openapi.json`);
      expect(openapi.status).toBe(200);
      expect(output).toMatch(/listening on http:\/\/127\.0\.0\.1/);
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
  });
});
