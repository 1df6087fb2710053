#!/usr/bin/env node
// Benchmark of the Peering API server (issue 2). Starts `peering-operator serve` on the embedded SQLite store
// and, in the same run, a bare node:http server answering the same JSON (the ceiling); drives both from a
// separate process (bench/load.mjs, autocannon) on loopback; prints requests/s, p50, p99 and the ratio.
//
//   npm run bench                         # after `npm run build`
//   BENCH_SECONDS=10 BENCH_CONNECTIONS=32 node bench/api-server.mjs
//
// Targets on the 2-core machine: GET /sessions/{id} >= 50 % of the ceiling; POST >= 1,000 accepted sessions/s.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
// Each measurement is repeated, alternating ours and the ceiling, and the best run of each is kept: on a shared
// machine the best run is the one least disturbed by other work.
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
// With taskset, servers run on CPU 1 and the load generator on CPU 0, so neither steals the other's core.
const pin = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const onCpu = (cpu, command, args) =>
  pin ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args];
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const TOKEN = 'bench-token-as64501-000000000';
const PORTS = 600;
/** Fresh DPoP proofs made for each run of the DPoP scenario: more than a run of BENCH_SECONDS can use. */
const PROOFS_PER_RUN = Number(
  process.env.BENCH_DPOP_PROOFS ?? 15_000 * Math.max(1, Number(process.env.BENCH_SECONDS ?? 5)),
); // addresses per network at the bench IX: 600 x 600 distinct sessions to create

/** A PeeringDB-format fixture: one IX with a /16 LAN, 250 ports for each of AS64500 (us) and AS64501. */
function writeFixture(dir) {
  mkdirSync(dir, { recursive: true });
  const rows = (asn, third) =>
    Array.from({ length: PORTS }, (_, i) => ({
      id: asn * 1000 + i,
      net_id: asn,
      ix_id: 1,
      ixlan_id: 1,
      name: 'Bench IX',
      asn,
      ipaddr4: `10.99.${third + Math.floor(i / 250)}.${(i % 250) + 1}`,
      ipaddr6: null,
      speed: 100000,
      is_rs_peer: false,
      operational: true,
      status: 'ok',
    }));
  const write = (name, data) => writeFileSync(join(dir, `${name}.json`), JSON.stringify({ data, meta: {} }));
  write('net', [
    { id: 64500, asn: 64500, name: 'Us' },
    { id: 64501, asn: 64501, name: 'Them' },
  ]);
  write('ix', [{ id: 1, name: 'Bench IX' }]);
  write('ixpfx', [{ id: 1, ixlan_id: 1, protocol: 'IPv4', prefix: '10.99.0.0/16' }]);
  write('netixlan', [...rows(64500, 0), ...rows(64501, 100)]);
}

function start(command0, args0, readyPattern, env = {}) {
  const [command, args] = onCpu(1, command0, args0);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (chunk) => {
      out += chunk;
      const match = readyPattern.exec(out);
      if (match) resolve({ child, match });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${out}`)));
  });
}

function runLoad(scenario) {
  return new Promise((resolve, reject) => {
    const [command, args] = onCpu(0, process.execPath, [join(root, 'bench', 'load.mjs')]);
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited ${code}`)),
    );
    child.stdin.end(JSON.stringify({ seconds, connections, ...scenario }));
  });
}

async function request(url, options) {
  const response = await fetch(url, options);
  return response.json();
}

const work = mkdtempSync(join(tmpdir(), 'peering-bench-'));
const children = [];
// A real OIDC issuer for the run with JWT verification on (RFC 9068 access tokens, RS256, JWKS by discovery).
const { startTestIssuer } = await import('../dist/controller/test/support/issuer.js');
const issuer = await startTestIssuer();
const { DpopKey } = await import('../dist/controller/src/auth/dpop-key.js');
const { signedRequestFields } = await import('../dist/controller/src/auth/http-signature.js');
/** The extra network of the caller the server holds to dpop+signature. */
const SIGNED_CALLER_ASN = 64599;
try {
  writeFixture(join(work, 'peeringdb'));
  writeFileSync(
    join(work, 'config.yaml'),
    [
      'asns: [64500]',
      'apiUrl: http://127.0.0.1/v0.1',
      'listen: 127.0.0.1:0',
      `peeringdb: { dataDir: ${join(work, 'peeringdb')} }`,
      `store: { dataDir: ${join(work, 'data')} }`,
      'limits: { requestsPerMinute: 0 }',
      `auth: { issuers: [{ kind: jwt, issuer: "${issuer.issuer}" }], callers: [{ asn: ${SIGNED_CALLER_ASN}, policy: dpop+signature }], staticTokens: [{ token: ${TOKEN}, subject: bench, networks: [{ asn: 64501, perms: 15 }] }] }`,
    ].join('\n'),
  );
  const ours = await start(
    process.execPath,
    [
      'dist/controller/src/cli/peering-operator.js',
      'serve',
      '--config',
      join(work, 'config.yaml'),
      '--log-level',
      'warn',
    ],
    /listening on (http:\/\/\S+)/,
  );
  children.push(ours.child);
  const base = ours.match[1];
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  // Seed 1,000 sessions (pages of 100 for the list scenario) through the API itself.
  let next = 0;
  const session = (n) => ({
    local_asn: 64500,
    local_ip: `10.99.${Math.floor((n % PORTS) / 250)}.${((n % PORTS) % 250) + 1}`,
    peer_asn: 64501,
    peer_ip: `10.99.${100 + Math.floor(Math.floor(n / PORTS) / 250)}.${(Math.floor(n / PORTS) % 250) + 1}`,
    location: 'pdb:ix:1',
  });
  for (let r = 0; r < 100; r += 1) {
    const sessions = Array.from({ length: 10 }, () => session(next++));
    await request(`${base}/sessions`, { method: 'POST', headers, body: JSON.stringify({ sessions }) });
  }
  const page = await request(`${base}/sessions?max_results=100`, { headers });
  const one = page.sessions[0];
  const oneBody = JSON.stringify(one);
  const pageBody = JSON.stringify(page);

  const ceiling = await start(
    process.execPath,
    [join(root, 'bench', 'bare-server.mjs')],
    /listening on (http:\/\/\S+)/,
    {
      ONE: oneBody,
      PAGE: pageBody,
    },
  );
  children.push(ceiling.child);
  const bare = ceiling.match[1];

  // New sessions for POSTs, shared by the POST and the mixed runs so that no session is asked for twice.
  const postCursor = { first: next, ports: PORTS };
  const scenarios = [
    { name: 'GET /sessions/{id}', method: 'GET', path: `/sessions/${one.session_id}` },
    { name: 'GET /sessions (page of 100)', method: 'GET', path: '/sessions?max_results=100' },
    {
      name: 'POST /sessions (10 per request)',
      method: 'POST',
      path: '/sessions',
      post: postCursor,
    },
  ];
  // The mixed run (issue 14): 70 % GET by id, 20 % pages of 100, 10 % POST of 10 new sessions, on every
  // connection, against the same mix on the bare server.
  scenarios.push({
    name: 'mixed 70/20/10',
    method: 'GET',
    path: '',
    mix: { one: `/sessions/${one.session_id}`, page: '/sessions?max_results=100', post: '/sessions' },
    post: postCursor,
  });
  const jwt = await issuer.jwtFor(64501, 'http://127.0.0.1/v0.1');
  scenarios.splice(1, 0, {
    name: 'GET /sessions/{id}, JWT verified',
    method: 'GET',
    path: `/sessions/${one.session_id}`,
    headers: { ...headers, authorization: `Bearer ${jwt}` },
  });
  // Issue 19: the same read with a DPoP-bound JWT (RFC 9449). A bound token is held to its proof whatever the
  // policy, so every request's proof is checked in full (signature, htm, htu, iat, ath, thumbprint, jti replay).
  // Each request needs a fresh proof: they are made here, before each run, and the load process sends one per
  // request (the ceiling run carries them too, so both load processes do the same work).
  const dpopKey = await DpopKey.generate();
  const dpopToken = await issuer.tokenSource('as64501-perms15', 'http://127.0.0.1/v0.1', dpopKey).token();
  const dpopScenario = {
    name: 'GET /sessions/{id}, DPoP verified',
    method: 'GET',
    path: `/sessions/${one.session_id}`,
    headers: { ...headers, authorization: `DPoP ${dpopToken}` },
    // The htu the server expects: its configured public URL, whatever port the run listens on.
    proofs: (count) =>
      Promise.all(
        Array.from({ length: count }, () =>
          dpopKey.proof('GET', `http://127.0.0.1/v0.1/sessions/${one.session_id}`, dpopToken),
        ),
      ),
  };
  scenarios.splice(2, 0, dpopScenario);
  // And with an RFC 9421 signature on every request, from a caller the server holds to dpop+signature (its token
  // also holds AS64599, listed under auth.callers; the strictest policy of its networks applies).
  const signerKey = await DpopKey.generate();
  issuer.addAccount({
    id: 990_001,
    username: 'as64501-signed',
    password: 'password-as64501-signed',
    name: 'Automation of AS64501, held to dpop+signature',
    networks: [
      { asn: 64501, perms: 15 },
      { asn: SIGNED_CALLER_ASN, perms: 15 },
    ],
  });
  const signedToken = await issuer.tokenSource('as64501-signed', 'http://127.0.0.1/v0.1', signerKey).token();
  const signedUrl = `http://127.0.0.1/v0.1/sessions/${one.session_id}`;
  const signedHeaders = { ...headers, authorization: `DPoP ${signedToken}` };
  delete signedHeaders['content-type'];
  scenarios.splice(3, 0, {
    name: 'GET /sessions/{id}, DPoP + signature',
    method: 'GET',
    path: `/sessions/${one.session_id}`,
    headers: signedHeaders,
    proofs: (count) =>
      Promise.all(
        Array.from({ length: count }, async () => {
          const dpop = await signerKey.proof('GET', signedUrl, signedToken);
          const signed = await signedRequestFields(
            signerKey,
            'GET',
            signedUrl,
            { ...signedHeaders, dpop },
            undefined,
          );
          return { dpop, ...signed };
        }),
      ),
  });
  // Warm-up: let the JIT compile the hot paths before anything is measured.
  await runLoad({ ...scenarios[0], url: `${base}${scenarios[0].path}`, headers, seconds: 2 });
  const results = [];
  const best = (a, b) => (a === undefined || b.rps > a.rps ? b : a);
  // BENCH_ONLY=regex runs the scenarios whose names match (the summary needs them all).
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
  for (const scenario of scenarios.filter((s) => only === undefined || only.test(s.name))) {
    let ceil;
    let ourRun;
    for (let round = 0; round < rounds; round += 1) {
      const { proofs: makeProofs, ...described } = scenario;
      const load = { ...described, headers: scenario.headers ?? headers };
      // Enough fresh proofs for a run at several times the bearer rate; each is used once (a replay is a 401).
      const proofsFor = async () => (makeProofs ? { proofs: await makeProofs(PROOFS_PER_RUN) } : {});
      const prefixed = (origin, prefix) =>
        scenario.mix
          ? {
              ...load,
              url: origin,
              mix: Object.fromEntries(Object.entries(scenario.mix).map(([k, v]) => [k, `${prefix}${v}`])),
            }
          : { ...load, url: `${origin}${prefix}${scenario.path}` };
      ceil = best(
        ceil,
        await runLoad({ ...prefixed(new URL(bare).origin, '/v0.1'), ...(await proofsFor()) }),
      );
      const run = await runLoad({
        ...prefixed(new URL(base).origin, new URL(base).pathname),
        ...(await proofsFor()),
      });
      if (scenario.post) scenario.post.first += run.requests * 10;
      ourRun = best(ourRun, run);
    }
    results.push({ scenario: scenario.name, path: scenario.path, ours: ourRun, ceiling: ceil });
  }
  // The bare server answers a path the same whatever the token, so scenarios on one path share one ceiling: the
  // best of all their runs. A ceiling run slowed down by the machine's other work then cannot flatter a ratio.
  for (const result of results) {
    for (const other of results) {
      if (other.path === result.path && other.ceiling.rps > result.ceiling.rps)
        result.ceiling = other.ceiling;
    }
  }
  console.log(
    `\nPeering API server benchmark (best of ${rounds} runs of ${seconds} s, ${connections} connections, loopback, ` +
      `separate load process${pin ? ', servers on CPU 1 and load on CPU 0' : ''})\n`,
  );
  const pad = (s, n) => String(s).padEnd(n);
  console.log(
    pad('scenario', 34) +
      pad('server', 10) +
      pad('req/s', 10) +
      pad('p50 ms', 9) +
      pad('p99 ms', 9) +
      pad('errors', 8) +
      'ratio',
  );
  for (const r of results) {
    for (const [label, m] of [
      ['ours', r.ours],
      ['ceiling', r.ceiling],
    ]) {
      const ratio = label === 'ours' ? `${((100 * r.ours.rps) / r.ceiling.rps).toFixed(0)} %` : '';
      console.log(
        pad(label === 'ours' ? r.scenario : '', 34) +
          pad(label, 10) +
          pad(m.rps.toFixed(0), 10) +
          pad(m.p50, 9) +
          pad(m.p99, 9) +
          pad(m.errors, 8) +
          ratio,
      );
    }
  }
  if (only) {
    for (const r of results)
      console.log(`${r.scenario}: ${((100 * r.ours.rps) / r.ceiling.rps).toFixed(0)} %`);
  } else {
    const mixed = results.find((r) => r.scenario.startsWith('mixed'));
    const pageRun = results.find((r) => r.scenario.startsWith('GET /sessions (page'));
    const post = results.find((r) => r.scenario.startsWith('POST')).ours;
    const ratio = (r) => ((100 * r.ours.rps) / r.ceiling.rps).toFixed(0);
    console.log(
      `\nPOST: ${((post.ok * 10) / seconds).toFixed(0)} accepted sessions/s (target >= 1,000); ` +
        `GET /sessions/{id}: ${ratio(results[0])} % of the ceiling (target >= 50 %)`,
    );
    console.log(
      `GET /sessions page of 100: ${ratio(pageRun)} % of the ceiling (target >= 15 %); mixed 70/20/10: ` +
        `${mixed.ours.rps.toFixed(0)} req/s, p50 ${mixed.ours.p50} ms, p99 ${mixed.ours.p99} ms, ${ratio(mixed)} % of the ceiling`,
    );
    console.log(
      `JWT verification costs ${(100 - (100 * results[1].ours.rps) / results[0].ours.rps).toFixed(0)} % of ` +
        'GET /sessions/{id} throughput (verified tokens are cached for up to a minute, never past exp)',
    );
    const dpopRun = results.find((r) => r.scenario.endsWith('DPoP verified'));
    const signedRun = results.find((r) => r.scenario.endsWith('DPoP + signature'));
    const below = (run) => (100 - (100 * run.ours.rps) / results[1].ours.rps).toFixed(0);
    console.log(
      `DPoP (proof verified on every request) costs ${below(dpopRun)} % of the bearer-JWT GET /sessions/{id} ` +
        `throughput; DPoP + signature (both verified) ${below(signedRun)} % (target <= 30 %)`,
    );
  }
  const check = await request(`${base}/sessions?max_results=1`, { headers });
  if (!check.sessions) throw new Error('server stopped answering');
} finally {
  for (const child of children) child.kill('SIGTERM');
  await issuer.stop();
  rmSync(work, { recursive: true, force: true });
}
