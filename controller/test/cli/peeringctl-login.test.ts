import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { EXAMPLES_DIR } from '../support/sample.js';
import { peeringctl, requireBuild, stderrWatcher } from './run-peeringctl.js';

// A person of AS64501 logs in with `peeringctl login` at a real PeeringDB-like issuer on loopback (a scripted
// browser stands in for them), then every command uses the stored login against AS64500's real Peering API,
// which checks the opaque token at the issuer's /profile/v1.
describe('peeringctl login and token as subprocesses', () => {
  let issuer: TestIssuer;
  let api: TestApi;
  let dir: string;
  let tokenFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    requireBuild();
    issuer = await startTestIssuer();
    api = await startTestApi({
      config: { asns: [64500], auth: { issuers: [issuer.issuers.peeringdb] } },
      peeringDbDir: join(EXAMPLES_DIR, 'peeringdb'),
    });
    dir = mkdtempSync(join(tmpdir(), 'peeringctl-login-'));
    tokenFile = join(dir, 'login.json');
    // HOME too, so that no default login of the developer is ever read.
    env = { PEERING_API_URL: api.baseUrl, HOME: dir };
  });
  afterAll(async () => {
    await api?.stop();
    await issuer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** `peeringctl login` against the test issuer, running, and the authorization URL it printed. */
  const startLogin = async (file: string, extra: string[]) => {
    const progress = stderrWatcher();
    const running = peeringctl(
      ['login', '--issuer', issuer.issuer, '--client-id', 'peeringctl', '--token-file', file, ...extra],
      { env, onStderr: progress.onStderr, timeoutMs: 20_000 },
    );
    return { running, url: await authorizationUrl(progress) };
  };

  test('login prints the URL, completes on the loopback redirect and stores the login 0600; then commands use it', async () => {
    const { running, url } = await startLogin(tokenFile, ['-o', 'json']);
    await issuer.browser('admin64501')(url);
    const done = await running;
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ token_file: tokenFile, subject: '2' });
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(tokenFile, 'utf8')).not.toContain('password');

    const token = await peeringctl(['token', '--token-file', tokenFile], { env });
    expect(token.code).toBe(0);
    expect(token.stdout.trim()).toMatch(/^\S{20,}$/);

    const request = await peeringctl(
      [
        'request',
        '--token-file',
        tokenFile,
        '--local-asn',
        '64501',
        '--peer-asn',
        '64500',
        '--location',
        'pdb:ix:1',
        '--local-ip',
        '192.0.2.2',
        '--peer-ip',
        '192.0.2.1',
        '-o',
        'json',
      ],
      { env },
    );
    expect(request.stderr).toBe('');
    expect(request.code).toBe(0);
    expect(JSON.parse(request.stdout)).toMatchObject({
      sessions: [{ local_asn: 64501, status: 'approved' }],
    });

    // The default login file is found without --token-file.
    const viaEnv = await peeringctl(['list', '--local-asn', '64501'], {
      env: { ...env, PEERINGCTL_LOGIN_FILE: tokenFile },
    });
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.stdout).toMatch(/pdb:ix:1\s+64501\s+192\.0\.2\.2\s+64500\s+192\.0\.2\.1\s+approved/);
  });

  test('an access token the API refuses is dropped once and refreshed; the command still succeeds', async () => {
    const stored = JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, unknown>;
    const spentRefresh = stored.refresh_token;
    writeFileSync(tokenFile, JSON.stringify({ ...stored, access_token: 'revoked-access-token-000000000' }));
    const list = await peeringctl(['list', '--token-file', tokenFile, '--local-asn', '64501', '-o', 'json'], {
      env,
    });
    expect(list.code).toBe(0);
    const after = JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, unknown>;
    expect(after.access_token).not.toBe('revoked-access-token-000000000');
    expect(after.refresh_token).not.toBe(spentRefresh);
  });

  test('without a usable login token exits 5; a login whose password is wrong never completes and ends at --login-timeout (exit 1)', async () => {
    const missing = await peeringctl(['token', '--token-file', join(dir, 'nope.json')], { env });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('run peeringctl login');

    const { running, url } = await startLogin(join(dir, 'other.json'), ['--login-timeout', '2s']);
    await issuer
      .browser(
        'admin64501',
        'wrong-password',
      )(url)
      .catch(() => undefined);
    // A wrong password never reaches our redirect: the login waits, then gives up on time.
    const done = await running;
    expect(done.code).toBe(1);
    expect(done.stderr).toContain('no login within 2 s');
    expect(() => statSync(join(dir, 'other.json'))).toThrow();
  });

  test('login needs a client id (exit 2)', async () => {
    const run = await peeringctl(['login', '--issuer', issuer.issuer], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--client-id');
  });
});

/** The authorization URL peeringctl printed on stderr. */
async function authorizationUrl(progress: ReturnType<typeof stderrWatcher>): Promise<string> {
  const line = /^ {2}(https?:\/\/\S+)\n/m;
  await progress.until(line);
  const match = line.exec(progress.seen());
  if (!match?.[1]) throw new Error(`no authorization URL in: ${progress.seen()}`);
  return match[1];
}
