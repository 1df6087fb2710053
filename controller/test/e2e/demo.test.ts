import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindable, freePort } from '../../src/demo/two-networks.js';
import { describeWithBird } from '../support/bird.js';
import { waitFor } from './support/observe.js';
import { PEERING_OPERATOR, requireBuild } from './support/processes.js';

/** Processes whose command line mentions `text` (the demo's BIRDs name their folder in theirs). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// `npm run demo` is `peering-operator demo` from dist/: run it as a user does, watch it tell the negotiation until
// established, press Ctrl-C (SIGINT), and check that nothing it started is left.
describeWithBird('peering-operator demo', () => {
  let workDir: string;
  beforeAll(() => {
    requireBuild();
    workDir = mkdtempSync(join(tmpdir(), 'po-demo-'));
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('tells the negotiation step by step until established, and Ctrl-C stops every process it started', async () => {
    const [apiPort, issuerPort, bgpPort] = [
      await freePort(['127.0.0.1'], 30_000, 35_000),
      await freePort(['127.0.0.1'], 35_000, 40_000),
      await freePort(['127.0.0.2', '127.0.0.3'], 20_000, 30_000),
    ];
    const args = ['demo', '--work-dir', workDir, '--api-port', String(apiPort)];
    args.push('--issuer-port', String(issuerPort), '--bgp-port', String(bgpPort));
    const demo = spawn(process.execPath, [PEERING_OPERATOR, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    demo.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    demo.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    try {
      await waitFor(
        () => /★ established/.test(stdout),
        `the demo to say established; it said:\n${stdout}\n${stderr}`,
        45_000,
      );
    } catch (error) {
      demo.kill('SIGKILL');
      throw error;
    }
    const seconds = Number(/★ established: .*?, ([\d.]+) s after the PeeringRequest/.exec(stdout)?.[1]);
    console.log(`[demo] PeeringRequest → both operators report established: ${seconds} s`);
    expect(seconds).toBeGreaterThan(0);

    // The story, in the order it happens.
    const steps = [
      `Peering API http://127.0.0.1:${apiPort}/v0.1`,
      'AS64500: PeeringRequest default/as64501 applied: peer with AS64501',
      'AS64500 → AS64501: POST /sessions sent',
      'AS64501: AS64500 asked for sessions through our Peering API',
      'AS64500: AS64501 answered: 1 session(s) accepted, 0 rejected',
      'AS64501: configured on our BIRD',
      '★ BGP Established on both BIRDs',
      '★ established: both operators report it',
    ];
    let at = 0;
    for (const step of steps) {
      const found = stdout.indexOf(step, at);
      expect({ step, found: found >= 0 }).toEqual({ step, found: true });
      at = found;
    }
    expect(stdout).toContain('AS64500: configured on our BIRD');
    expect(stdout).toMatch(/AS64500: BIRD: BGP .*Established/);
    expect(stdout).toContain('AS64500: BIRD received 203.0.113.0/24 from AS64501');
    expect(stdout).toContain('AS64501: BIRD received 198.51.100.0/24 from AS64500');
    expect(stdout).not.toMatch(/received 10\.6[45]\./); // internal prefixes stay in
    const birdPids = [...stdout.matchAll(/BIRD 127\.0\.0\.[23] port \d+ \(pid (\d+)\)/g)].map((m) =>
      Number(m[1]),
    );
    expect(birdPids).toHaveLength(2);
    expect(birdPids.every(alive)).toBe(true);
    expect(processesMentioning(workDir).length).toBeGreaterThanOrEqual(2);

    // The operators proved their key and signed every request to each other, and the demo says so.
    const steps2 = [
      'AS64500 and AS64501 require dpop+signature of each other',
      "AS64500 → AS64501: POST /sessions sent (a JWT for AS64501's API bound to our DPoP key",
    ];
    for (const step of steps2) expect(stdout).toContain(step);
    const verified = /AS64501's API verified (.*) \(peering_api_authenticated_requests_total\)/.exec(
      stdout,
    )?.[1];
    expect(verified).toMatch(/^\d+ request\(s\) by dpop\+signature$/);
    // The commands it offers to try work as it says: peeringctl with the token and its key lists the session,
    // curl with the token alone is refused.
    const [peeringctl, curl] = [/^ {2}node (\S+peeringctl\.js list .*)$/m, /^ {2}curl (.*)$/m].map(
      (pattern) => pattern.exec(stdout)?.[1],
    );
    const listed = spawnSync('bash', ['-c', `node ${peeringctl} --output json`], { encoding: 'utf8' });
    expect({ status: listed.status, stderr: listed.stderr }).toEqual({ status: 0, stderr: '' });
    expect(listed.stdout).toContain('"status": "established"');
    const refused = spawnSync('bash', ['-c', `curl ${curl}`], { encoding: 'utf8' });
    expect(JSON.parse(refused.stdout)).toMatchObject({ errors: [{ code: 'DPOP_SCHEME_REQUIRED' }] });

    // Ctrl-C.
    demo.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 20_000))),
    ]);
    clearTimeout(timer);
    if (code === 'hung') demo.kill('SIGKILL');
    expect(code).toBe(0);
    expect(stdout).toContain('Stopped (BIRD pids');
    expect(birdPids.filter(alive)).toEqual([]);
    expect(processesMentioning(workDir)).toEqual([]);
    // Its listeners are gone too.
    expect(await bindable(['127.0.0.1'], apiPort)).toBe(true);
    expect(await bindable(['127.0.0.1'], apiPort + 1)).toBe(true);
    expect(await bindable(['127.0.0.1'], issuerPort)).toBe(true);
  }, 90_000);
});
