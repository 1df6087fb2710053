import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { discoverSessions } from '../../src/discovery/common-locations.js';
import { FilePeeringDb } from '../../src/peeringdb/files.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { describeWithSample } from '../support/sample.js';
import { expectExit, peeringctl, requireBuild, stderrWatcher } from './run-peeringctl.js';

// We are Cloudflare (AS13335) with peeringctl; the remote Peering API is Google's (AS15169): a REAL server of
// ours on loopback over the 2022 PeeringDB sample. peeringctl runs as a subprocess from dist/, as users run it.
const TOKEN = 'token-cloudflare-admin-0001';
const CF = { token: TOKEN, subject: 'alice@cloudflare', networks: [{ asn: 13335, perms: 15 }] };
const AMS = ['--location', 'pdb:ix:26', '--local-ip', '80.249.211.140', '--peer-ip', '80.249.208.247'];
const ASNS = ['--local-asn', '13335', '--peer-asn', '15169'];
const COMMANDS = [
  'locations',
  'discover',
  'request',
  'status',
  'list',
  'delete',
  'openapi',
  'login',
  'token',
];

interface SessionJson {
  session_id: string;
  status: string;
  local_asn: number;
  local_ip: string;
  peer_asn: number;
  peer_ip: string;
  location: { id: string };
}

describeWithSample('peeringctl as a subprocess against our server (AS13335 asks AS15169)', (sample) => {
  let api: TestApi;
  let env: Record<string, string>;
  let work: string;

  beforeAll(async () => {
    requireBuild();
    api = await startTestApi({ config: { asns: [15169] }, peeringDbDir: sample, tokens: [CF] });
    env = { PEERING_API_URL: api.baseUrl, PEERING_API_TOKEN: TOKEN };
    work = mkdtempSync(join(tmpdir(), 'peeringctl-test-'));
  });
  afterAll(async () => {
    await api?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const json = <T>(text: string) => JSON.parse(text) as T;
  const file = (name: string, text: string) => {
    const path = join(work, name);
    writeFileSync(path, text);
    return path;
  };
  /** A PeeringRequest file of Cloudflare (AS13335) asking Google (AS15169), with more of its spec in YAML. */
  const requestFile = (name: string, spec: string) =>
    file(
      name,
      `apiVersion: peering.autopeer.dev/v1alpha1\nkind: PeeringRequest\nspec:\n  localAsn: 13335\n  peerAsn: 15169\n${spec}`,
    );

  test('--help of peeringctl and of every command, with examples; the root lists the exit codes', async () => {
    const root = await peeringctl(['--help']);
    expect(root.code).toBe(0);
    expect(root.stdout).toContain('Exit codes:');
    expect(root.stdout).toMatch(/7 {2}status --watch: a session ended rejected or unestablished/);
    for (const command of COMMANDS) expect(root.stdout).toContain(command);
    const helps = await Promise.all(COMMANDS.map((c) => peeringctl([c, '--help'])));
    for (const [i, help] of helps.entries()) {
      expect({ command: COMMANDS[i], code: help.code }).toEqual({ command: COMMANDS[i], code: 0 });
      expect(help.stdout).toContain('Examples:');
      expect(help.stdout).toContain(`peeringctl ${COMMANDS[i]}`);
    }
  });

  test('usage errors exit 2 and say what is wrong', async () => {
    const [unknown, badAsn, missing, noApi, badOutput] = await Promise.all([
      peeringctl(['list', '--frobnicate'], { env }),
      peeringctl(['request', '--local-asn', 'x'], { env }),
      peeringctl(['request', ...ASNS], { env }),
      peeringctl(['list'], { env: { PEERING_API_TOKEN: TOKEN } }),
      peeringctl(['list', '-o', 'xml'], { env }),
    ]);
    expectExit(unknown, 2, "unknown option '--frobnicate'");
    expectExit(badAsn, 2, 'expected an ASN');
    expectExit(missing, 2, 'missing --location, --local-ip, --peer-ip');
    expectExit(noApi, 2, '--api-url');
    expect(badOutput.code).toBe(2);
  });

  test('locations: a table by default, the same listing in json and yaml', async () => {
    const expected = await api.receiver.listLocations(15169, 'public');
    const table = await peeringctl(['locations', '--peer-asn', '15169', '--type', 'public'], { env });
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^LOCATION\s+TYPE\s+NAME\s+PEER ASN\s+PEER IPS$/);
    expect(lines).toHaveLength(expected.length + 1);
    expect(lines.find((l) => l.startsWith('pdb:ix:26 '))).toMatch(
      /AMS-IX\s+15169\s+80\.249\.208\.247,2001:7f8:1::a501:5169:1,80\.249\.209\.100,2001:7f8:1::a501:5169:2$/,
    );
    const asJson = await peeringctl(['locations', '--peer-asn', '15169', '--type', 'public', '-o', 'json'], {
      env,
    });
    const listed = json<{ locations: { id: string; peer_ips: string[] }[] }>(asJson.stdout).locations;
    expect(listed.map((l) => l.id)).toEqual(expected.map((l) => l.id));
    const asYaml = await peeringctl(['locations', '--peer-asn', '15169', '--type', 'public', '-o', 'yaml'], {
      env,
    });
    expect(parseYaml(asYaml.stdout)).toEqual(json(asJson.stdout));
  });

  test('discover: the sessions of the sample, narrowed, with reasons, and as a PeeringRequest', async () => {
    const expected = await discoverSessions(await FilePeeringDb.load(sample), {
      localAsn: 13335,
      peerAsn: 15169,
    });
    const all = await peeringctl(['discover', ...ASNS, '--peeringdb-dir', sample, '-o', 'json'], { env });
    expect(all.code).toBe(0);
    const data = json<{ sessions: { local_ip: string; peer_ip: string }[]; skipped: { reason: string }[] }>(
      all.stdout,
    );
    expect(data.sessions.map((s) => `${s.local_ip} ${s.peer_ip}`)).toEqual(
      expected.sessions.map((s) => `${s.localIp} ${s.peerIp}`),
    );
    expect(data.skipped.filter((s) => s.reason === 'only-local')).toHaveLength(104);

    const table = await peeringctl(['discover', ...ASNS, '--peeringdb-dir', sample], { env });
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(expected.sessions.length + 1);
    expect(table.stderr).toContain(`${expected.sessions.length} sessions at 169 exchanges`);
    expect(table.stderr).toContain('only-local: 104, only-peer: 45');

    const ams = await peeringctl(
      [
        'discover',
        ...ASNS,
        '--peeringdb-dir',
        sample,
        '--location',
        'pdb:ix:26',
        '--family',
        'ipv4',
        '--show-skipped',
      ],
      { env },
    );
    const rows = ams.stdout.split('\n').filter((l) => l.startsWith('pdb:ix:26 '));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/AMS-IX\s+ipv4\s+80\.249\.211\.140\s+80\.249\.208\.247$/);
    expect(ams.stdout).toMatch(/LEFT OUT\s+NAME\s+FAMILY\s+REASON\s+WHY/);
    expect(ams.stdout).toMatch(
      /pdb:ix:31\s+DE-CIX Frankfurt: DE-CIX Frankfurt Peering LAN\s+all\s+not-selected/,
    );

    const offered = await peeringctl(
      [
        'discover',
        ...ASNS,
        '--peeringdb-dir',
        sample,
        '--peer-locations',
        '--location',
        'pdb:ix:18',
        '-o',
        'json',
      ],
      { env },
    );
    expect(offered.code).toBe(0);
    expect(json<{ sessions: unknown[] }>(offered.stdout).sessions).toHaveLength(4);

    const asRequest = await peeringctl(
      ['discover', ...ASNS, '--peeringdb-dir', sample, '--location', 'pdb:ix:26', '--as-request', 'google'],
      { env },
    );
    const resource = parseYaml(asRequest.stdout) as {
      kind: string;
      spec: { sessions: unknown[]; peerApiUrl: string };
    };
    expect(resource.kind).toBe('PeeringRequest');
    expect(resource.spec.sessions).toHaveLength(4);
    expect(resource.spec.peerApiUrl).toBe(api.baseUrl);
    const requested = await peeringctl(['request', '-f', '-', '-o', 'json'], {
      env,
      input: asRequest.stdout,
    });
    expect(requested.code).toBe(0);
    expect(json<{ sessions: unknown[]; errors: unknown[] }>(requested.stdout)).toMatchObject({ errors: [] });
    expect(json<{ sessions: unknown[] }>(requested.stdout).sessions).toHaveLength(4);

    const tooMany = await peeringctl(['discover', ...ASNS, '--peeringdb-dir', sample, '--as-request', 'x'], {
      env,
    });
    expect(tooMany.code).toBe(2);
    const noData = await peeringctl(['discover', ...ASNS, '--peeringdb-dir', work], { env });
    expect(noData.code).toBe(3);
  });

  test('request from flags: idempotent by request id and by natural key; json {request_id, sessions, errors}', async () => {
    const requestId = `cli-${randomUUID()}`;
    const first = await peeringctl(['request', ...ASNS, ...AMS, '--request-id', requestId, '-o', 'json'], {
      env,
    });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const answer = json<{
      request_id: string;
      client_request_id: string;
      sessions: SessionJson[];
      errors: [];
    }>(first.stdout);
    expect(answer.client_request_id).toBe(requestId);
    expect(answer.errors).toEqual([]);
    // From the user's view: local is us (Cloudflare), the reverse of the wire reading.
    expect(answer.sessions[0]).toMatchObject({
      local_asn: 13335,
      local_ip: '80.249.211.140',
      peer_asn: 15169,
      peer_ip: '80.249.208.247',
      status: 'approved',
    });
    const again = await peeringctl(['request', ...ASNS, ...AMS, '--request-id', requestId, '-o', 'json'], {
      env,
    });
    expect(json<typeof answer>(again.stdout).request_id).toBe(answer.request_id);
    const byKey = await peeringctl(['request', ...ASNS, ...AMS], { env });
    expect(byKey.code).toBe(0);
    expect(byKey.stdout).toContain(answer.sessions[0]!.session_id);
    expect(byKey.stdout.split('\n')[0]).toMatch(
      /^SESSION ID\s+LOCATION\s+LOCAL ASN\s+LOCAL IP\s+PEER ASN\s+PEER IP\s+STATUS$/,
    );
    expect(byKey.stderr).toMatch(/1 accepted, 0 not accepted/);

    const secret = await peeringctl(['request', ...ASNS, ...AMS, '--secret-env', 'MD5_SECRET'], { env });
    expectExit(secret, 2, 'MD5_SECRET is not set');
    const withSecret = await peeringctl(
      ['request', ...ASNS, ...AMS, '--secret-env', 'MD5_SECRET', '-o', 'json'],
      {
        env: { ...env, MD5_SECRET: 'a-shared-secret' },
      },
    );
    expect(withSecret.code).toBe(0);
    expect(withSecret.stdout).not.toContain('a-shared-secret');
  });

  test('rejections: partly (exit 4, errors from our view) and wholly (exit 4 with the server code)', async () => {
    const path = file(
      'partial.yaml',
      `apiVersion: peering.autopeer.dev/v1alpha1
kind: PeeringRequest
metadata: { name: google }
spec:
  localAsn: 13335
  peerAsn: 15169
  apiUrl: ${api.baseUrl}
  sessions:
    - { location: pdb:ix:18, localIp: 195.66.225.179, peerIp: 195.66.224.125 }
    - { location: pdb:ix:18, localIp: 195.66.225.1, peerIp: 195.66.224.125 }
`,
    );
    const partial = await peeringctl(['request', '-f', path, '-o', 'json'], {
      env: { PEERING_API_TOKEN: TOKEN },
    });
    expect(partial.code).toBe(4);
    const body = json<{ sessions: SessionJson[]; errors: { name: string; field: string; code: string }[] }>(
      partial.stdout,
    );
    expect(body.sessions.map((s) => s.local_ip)).toEqual(['195.66.225.179']);
    expect(body.errors).toEqual([
      expect.objectContaining({
        name: 'sessions[1].peer_ip',
        field: 'sessions[1].local_ip',
        code: 'PEER_IP_NOT_REGISTERED',
      }),
    ]);
    expect(partial.stderr).toContain('sessions[1].local_ip [PEER_IP_NOT_REGISTERED]');

    const whole = await peeringctl(
      ['request', ...ASNS, ...AMS.slice(0, 2), '--local-ip', '80.249.211.1', '--peer-ip', '80.249.208.247'],
      {
        env,
      },
    );
    expectExit(whole, 4, 'PEER_IP_NOT_REGISTERED (sessions[0].local_ip)');
  });

  test('request -f with locations discovers the sessions; an invalid file exits 3 naming the field', async () => {
    const path = requestFile('locations.yaml', '  locations: [pdb:ix:31]\n  addressFamilies: [ipv6]\n');
    const run = await peeringctl(['request', '-f', path, '--peeringdb-dir', sample, '-o', 'json'], { env });
    expect(run.code).toBe(0);
    const sessions = json<{ sessions: SessionJson[] }>(run.stdout).sessions;
    expect(sessions.map((s) => `${s.local_ip} ${s.peer_ip}`)).toEqual([
      '2001:7f8::3417:0:1 2001:7f8::3b41:0:1',
      '2001:7f8::3417:0:1 2001:7f8::3b41:0:2',
      '2001:7f8::3417:0:2 2001:7f8::3b41:0:1',
      '2001:7f8::3417:0:2 2001:7f8::3b41:0:2',
    ]);

    // Neither sessions nor locations: every shared exchange, sent as requests of at most 100 sessions.
    const everything = requestFile('everything.yaml', '');
    const expected = await discoverSessions(await FilePeeringDb.load(sample), {
      localAsn: 13335,
      peerAsn: 15169,
    });
    const bulk = await peeringctl(
      ['request', '-f', everything, '--peeringdb-dir', sample, '--request-id', 'bulk-1', '-o', 'json'],
      { env },
    );
    expect(bulk.code).toBe(0);
    const answer = json<{
      sessions: SessionJson[];
      errors: unknown[];
      requests: { client_request_id: string }[];
    }>(bulk.stdout);
    expect(answer.errors).toEqual([]);
    expect(answer.sessions.map((s) => `${s.location.id} ${s.local_ip} ${s.peer_ip}`)).toEqual(
      expected.sessions.map((s) => `${s.location.id} ${s.localIp} ${s.peerIp}`),
    );
    const chunks = Math.ceil(expected.sessions.length / 100);
    expect(answer.requests.map((r) => r.client_request_id)).toEqual(
      Array.from({ length: chunks }, (_, i) => `bulk-1:${i + 1}`),
    );
    // Leave no sessions behind: later tests request some of these again under request ids of their own.
    await api.store.remove(
      answer.sessions.map((s) => s.session_id),
      'test',
    );

    const bad = requestFile(
      'bad.yaml',
      '  sessions:\n    - { location: pdb:ix:26, localIp: 80.249.211.140, peerIp: not-an-ip }\n',
    );
    const invalid = await peeringctl(['request', '-f', bad], { env });
    expectExit(invalid, 3, 'spec.sessions[0].peerIp: must be an IPv4 or IPv6 address');
    const wrongKind = await peeringctl(
      ['request', '-f', file('kind.yaml', 'apiVersion: v1\nkind: ConfigMap\n')],
      { env },
    );
    expectExit(wrongKind, 3, 'apiVersion: must be peering.autopeer.dev/v1alpha1');
    const both = await peeringctl(['request', '-f', bad, ...ASNS], { env });
    expect(both.code).toBe(2);
  });

  test('status, list and status --watch to established (0), rejected (7) and a timeout (8)', async () => {
    const requestId = `watch-${randomUUID()}`;
    const made = await peeringctl(
      [
        'request',
        ...ASNS,
        '--location',
        'pdb:ix:359',
        '--local-ip',
        '37.49.237.49',
        '--peer-ip',
        '37.49.236.2',
        '--request-id',
        requestId,
        '-o',
        'json',
      ],
      { env },
    );
    expect(made.stderr).toBe('');
    const id = json<{ sessions: SessionJson[] }>(made.stdout).sessions[0]!.session_id;

    const status = await peeringctl(['status', '--session-id', id], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(
        `${id}\\s+pdb:ix:359\\s+13335\\s+37\\.49\\.237\\.49\\s+15169\\s+37\\.49\\.236\\.2\\s+approved`,
      ),
    );
    const byRequest = await peeringctl(
      ['status', '--request-id', requestId, '--local-asn', '13335', '-o', 'json'],
      { env },
    );
    expect(json<{ sessions: SessionJson[] }>(byRequest.stdout).sessions.map((s) => s.session_id)).toEqual([
      id,
    ]);
    const listed = await peeringctl(['list', '--local-asn', '13335', '-o', 'yaml'], { env });
    expect(
      (parseYaml(listed.stdout) as { sessions: SessionJson[] }).sessions.map((s) => s.session_id),
    ).toContain(id);

    // Each status change is made once peeringctl has shown the previous one, however slow the machine.
    const progress = stderrWatcher();
    const watching = peeringctl(
      ['status', '--session-id', id, '--watch', '--interval', '100ms', '-o', 'json'],
      { env, onStderr: progress.onStderr },
    );
    await progress.until('1 approved');
    await api.store.setStatus(id, 'configured');
    await progress.until('1 configured');
    await api.store.setStatus(id, 'established');
    const watched = await watching;
    expect(watched.code).toBe(0);
    expect(json<{ sessions: SessionJson[]; final: boolean }>(watched.stdout)).toMatchObject({
      final: true,
      sessions: [{ session_id: id, status: 'established' }],
    });
    // Not a terminal: one progress line per change, in order.
    const steps = watched.stderr
      .trim()
      .split('\n')
      .map((l) => l.replace(/^\[\d+s\] /, ''));
    expect(steps).toEqual(['1 session: 1 approved', '1 session: 1 configured', '1 session: 1 established']);

    await api.store.setStatus(id, 'approved');
    const again = stderrWatcher();
    const rejectedWatch = peeringctl(
      ['status', '--request-id', requestId, '--watch', '--interval', '100ms'],
      { env, onStderr: again.onStderr },
    );
    await again.until('1 approved');
    await api.store.setStatus(id, 'rejected');
    const rejected = await rejectedWatch;
    expect(rejected.code).toBe(7);
    expect(rejected.stdout).toMatch(/rejected$/m);

    await api.store.setStatus(id, 'approved');
    const slow = await peeringctl(
      ['status', '--session-id', id, '--watch', '--interval', '100ms', '--watch-timeout', '500ms'],
      { env },
    );
    expectExit(slow, 8, 'gave up after');

    const unknown = await peeringctl(['status', '--session-id', randomUUID()], { env });
    expectExit(unknown, 6, 'SESSION_NOT_FOUND');
  });

  test('delete by natural key and by id; already absent is success', async () => {
    const key = [
      '--peer-asn',
      '15169',
      '--location',
      'pdb:ix:2',
      '--local-ip',
      '208.115.136.180',
      '--peer-ip',
      '208.115.136.21',
    ];
    const made = await peeringctl(['request', '--local-asn', '13335', ...key, '-o', 'json'], { env });
    expect(made.code).toBe(0);
    const id = json<{ sessions: SessionJson[] }>(made.stdout).sessions[0]!.session_id;

    const deleted = await peeringctl(['delete', ...key, '-o', 'json'], { env });
    expect(deleted.code).toBe(0);
    expect(json(deleted.stdout)).toEqual({ deleted: [{ session_id: id, result: 'deleted' }] });
    await expect(api.store.get(id)).resolves.toBeUndefined();
    const again = await peeringctl(['delete', ...key, '-o', 'json'], { env });
    expect(again.code).toBe(0);
    expect(json(again.stdout)).toEqual({ deleted: [{ result: 'absent' }] });
    const byId = await peeringctl(['delete', '--session-id', id], { env });
    expect(byId.code).toBe(0);
    expect(byId.stdout).toMatch(new RegExp(`${id}\\s+absent`));
    const partial = await peeringctl(['delete', '--session-id', id, '--peer-asn', '15169'], { env });
    expect(partial.code).toBe(2);
  });

  test('openapi prints the document; auth and reachability failures have their exit codes', async () => {
    const [doc, yaml, wrongToken, notOurs, unreachable] = await Promise.all([
      peeringctl(['openapi'], { env: { PEERING_API_URL: api.baseUrl } }),
      peeringctl(['openapi', '-o', 'yaml'], { env }),
      peeringctl(['list', '--token', 'wrong-token-000000000'], { env }),
      peeringctl(['list', '--local-asn', '64500'], { env }),
      peeringctl(['list', '--api-url', 'http://127.0.0.1:9/v0.1', '--timeout', '1s'], { env }),
    ]);
    expect(doc.code).toBe(0);
    expect(json<{ openapi: string }>(doc.stdout).openapi).toMatch(/^3\.1/);
    expect((parseYaml(yaml.stdout) as { openapi: string }).openapi).toMatch(/^3\.1/);
    expectExit(wrongToken, 5, 'UNAUTHENTICATED');
    expectExit(notOurs, 5, 'FORBIDDEN_ASN');
    expectExit(unreachable, 1, 'REMOTE_UNAVAILABLE');
  });
});
