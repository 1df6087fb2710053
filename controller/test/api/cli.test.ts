import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLES_DIR, REPO_ROOT } from '../support/sample.js';

// The built executable, as users run it (`npm test` builds before running jest).
const BIN = join(REPO_ROOT, 'dist', 'controller', 'src', 'cli', 'peering-operator.js');

describe('peering-operator serve', () => {
  test('--help documents commands, exit codes and examples', () => {
    const result = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/serve/);
    expect(result.stdout).toMatch(/Exit codes/);
    expect(result.stdout).toMatch(/Examples:/);
  });

  test('a bad configuration stops the program with exit 3 and a message naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'peering-cli-'));
    writeFileSync(
      join(dir, 'bad.yaml'),
      'asns: [64500]\napiUrl: http://x/v0.1\npeeringdb: { dataDir: . }\npolicy: { approval: maybe }\n',
    );
    const result = spawnSync(process.execPath, [BIN, 'serve', '--config', join(dir, 'bad.yaml')], {
      encoding: 'utf8',
    });
    rmSync(dir, { recursive: true });
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/policy\.approval: /);
  });

  test('a bad --listen is a usage error', () => {
    const result = spawnSync(process.execPath, [BIN, 'serve', '--config', 'x.yaml', '--listen', 'nowhere'], {
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/HOST:PORT/);
  });

  test('serve starts on the example configuration, prints where it listens, answers, and stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'peering-cli-'));
    const child = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        '--config',
        join(EXAMPLES_DIR, 'peering-operator.yaml'),
        '--listen',
        '127.0.0.1:0',
        '--data-dir',
        dataDir,
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /listening on (http:\/\/\S+)/.exec(out);
          if (match?.[1]) resolve(match[1]);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const response = await fetch(`${url}/sessions?asn=64501`, {
        headers: { authorization: 'Bearer demo-token-as64501-0123456789' },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ sessions: [] });
    } finally {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
