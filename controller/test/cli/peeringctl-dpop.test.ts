import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, decodeJwt, type JWK } from 'jose';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { EXAMPLES_DIR } from '../support/sample.js';
import { peeringctl, requireBuild, stderrWatcher } from './run-peeringctl.js';

// `peeringctl --dpop-key`: a person of AS64501 logs in with a DPoP key at the real issuer, and commands then
// reach a Peering API whose policy is `dpop` with key-bound tokens and a proof per request; without the key the
// same login is of no use.
describe('peeringctl with --dpop-key against a dpop-policy API', () => {
  let issuer: TestIssuer;
  let api: TestApi;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    requireBuild();
    issuer = await startTestIssuer();
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    api = await startTestApi({
      config: {
        asns: [64500],
        apiUrl: `http://127.0.0.1:${port}/v0.1`,
        listen: `127.0.0.1:${port}`,
        auth: { issuers: [issuer.issuers.jwt], policy: 'dpop' },
      },
      peeringDbDir: join(EXAMPLES_DIR, 'peeringdb'),
    });
    dir = mkdtempSync(join(tmpdir(), 'peeringctl-dpop-'));
    env = { PEERING_API_URL: api.baseUrl, HOME: dir };
  });
  afterAll(async () => {
    await api?.stop();
    await issuer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('login binds the tokens to the key file (made 0600); list works with the key and fails without it', async () => {
    const tokenFile = join(dir, 'login.json');
    const keyFile = join(dir, 'dpop.jwk');
    const progress = stderrWatcher();
    const running = peeringctl(
      [
        'login',
        '--issuer',
        issuer.issuer,
        '--client-id',
        'peeringctl',
        '--resource',
        api.baseUrl,
        '--token-file',
        tokenFile,
        '--dpop-key',
        keyFile,
      ],
      { env, onStderr: progress.onStderr, timeoutMs: 20_000 },
    );
    const line = /^ {2}(https?:\/\/\S+)\n/m;
    await progress.until(line);
    await issuer.browser('admin64501')(line.exec(progress.seen())![1]!);
    expect((await running).code).toBe(0);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const login = JSON.parse(readFileSync(tokenFile, 'utf8')) as { access_token: string; dpop_jkt: string };
    expect((decodeJwt(login.access_token).cnf as { jkt: string }).jkt).toBe(login.dpop_jkt);

    const list = await peeringctl(
      ['list', '--token-file', tokenFile, '--dpop-key', keyFile, '--local-asn', '64501', '-o', 'json'],
      { env },
    );
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);

    const withoutKey = await peeringctl(['list', '--token-file', tokenFile, '--local-asn', '64501'], { env });
    expect(withoutKey.code).not.toBe(0);
    expect(withoutKey.stderr).toContain('bound to a DPoP key');
  });

  test('a plain bearer token is refused by the dpop policy with its catalog code', async () => {
    const bearer = await issuer.jwt('admin64501', api.baseUrl);
    const list = await peeringctl(['list', '--token', bearer, '--local-asn', '64501', '-o', 'json'], { env });
    expect(list.code).not.toBe(0);
    expect(list.stderr).toContain('DPOP_SCHEME_REQUIRED');
  });

  test('dpop-key makes a key once (0600) and prints its thumbprint; a loose or foreign file is refused', async () => {
    const keyFile = join(dir, 'made', 'as64501.jwk');
    const made = await peeringctl(['dpop-key', keyFile], { env });
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const jwk = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
    expect(made.stdout.trim()).toBe(
      await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }),
    );
    // Read again, never replaced.
    expect((await peeringctl(['dpop-key', keyFile], { env })).stdout).toBe(made.stdout);
    chmodSync(keyFile, 0o644);
    const loose = await peeringctl(['dpop-key', keyFile], { env });
    expect(loose.code).toBe(2);
    expect(loose.stderr).toContain(`chmod 600 ${keyFile}`);
    const foreign = join(dir, 'rsa.jwk');
    writeFileSync(foreign, '{"kty":"RSA","n":"AQAB","e":"AQAB"}', { mode: 0o600 });
    const refused = await peeringctl(['dpop-key', foreign], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not an ES256 private JWK');
    expect(readFileSync(foreign, 'utf8')).toContain('RSA');
  });
});
