import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { EXAMPLES_DIR, REPO_ROOT } from '../support/sample.js';

// The built executables as a user runs them (`npm test` builds first): `peering-operator issuer` with the
// example accounts, and `peering-operator serve` trusting it through `auth.issuers` in its YAML configuration.
const BIN = join(REPO_ROOT, 'dist', 'controller', 'src', 'cli', 'peering-operator.js');
const API_URL = 'https://peering.as64500.example.net/v0.1';

describe('peering-operator issuer and serve with auth.issuers', () => {
  const children: ChildProcess[] = [];
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'peering-issuer-cli-'));
  });
  afterAll(async () => {
    await Promise.all(children.map(stop));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a JWT from the example issuer opens the API that `serve` runs; no token gets 401', async () => {
    const issuerLine = await start(
      children,
      ['issuer', '--accounts', join(EXAMPLES_DIR, 'issuer-accounts.yaml'), '--listen', '127.0.0.1:0'],
      /PeeringDB-like issuer/,
    );
    const issuer = /issuer (http:\/\/127\.0\.0\.1:\d+\/oauth2)/.exec(issuerLine)?.[1];
    expect(issuer).toBeDefined();
    const origin = issuer!.replace(/\/oauth2$/, '');

    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      stringify({
        asns: [64500],
        apiUrl: API_URL,
        peeringdb: { dataDir: join(EXAMPLES_DIR, 'peeringdb') },
        store: { dataDir: join(dir, 'data') },
        auth: {
          issuers: [
            { kind: 'jwt', issuer },
            { kind: 'peeringdb', url: origin },
          ],
        },
      }),
    );
    const serveLine = await start(
      children,
      ['serve', '--config', config, '--listen', '127.0.0.1:0'],
      / listening on /,
    );
    const baseUrl = /listening on (http:\/\/\S+)/.exec(serveLine)?.[1];
    expect(baseUrl).toBeDefined();

    const grant = await fetch(`${issuer}/token/`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'as64501-automation',
        client_secret: 'demo-secret-as64501-automation',
        resource: API_URL,
      }),
    });
    const { access_token: token } = (await grant.json()) as { access_token: string };
    const created = await fetch(`${baseUrl}/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        sessions: [
          {
            local_asn: 64500,
            local_ip: '192.0.2.1',
            peer_asn: 64501,
            peer_ip: '192.0.2.2',
            location: { id: 'pdb:ix:1', type: 'public' },
          },
        ],
      }),
    });
    expect(created.status).toBe(200);
    const anonymous = await fetch(`${baseUrl}/sessions`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="peering-api"');
  });
});

/** Spawns the CLI and resolves with its stdout line that says it is ready (logs may come first). */
function start(children: ChildProcess[], args: string[], ready: RegExp): Promise<string> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => ready.test(l));
      if (line !== undefined) resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}: ${stderr}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
