// The load generator of bench/api-server.mjs, in a process of its own: reads a scenario on stdin, runs
// autocannon, prints {rps, p50, p99, errors, requests} as JSON.
import autocannon from 'autocannon';

const input = JSON.parse(
  await new Promise((resolve) => {
    let text = '';
    process.stdin.on('data', (c) => (text += c));
    process.stdin.on('end', () => resolve(text));
  }),
);

let next = input.post?.first ?? 0;
const ports = input.post?.ports ?? 0;
// Every POST carries 10 sessions never requested before, so each is a real acceptance, not an idempotent replay.
const session = (n) => ({
  local_asn: 64500,
  local_ip: `10.99.${Math.floor((n % ports) / 250)}.${((n % ports) % 250) + 1}`,
  peer_asn: 64501,
  peer_ip: `10.99.${100 + Math.floor(Math.floor(n / ports) / 250)}.${(Math.floor(n / ports) % 250) + 1}`,
  location: 'pdb:ix:1',
});

const post = {
  method: 'POST',
  headers: input.headers,
  setupRequest: (request) => ({
    ...request,
    body: JSON.stringify({ sessions: Array.from({ length: 10 }, () => session(next++)) }),
  }),
};
// A mix cycles through ten requests on every connection: 7 GET by id, 2 list pages, 1 POST (70/20/10).
const mixed = input.mix
  ? [
      ...Array.from({ length: 7 }, () => ({ method: 'GET', path: input.mix.one, headers: input.headers })),
      ...Array.from({ length: 2 }, () => ({ method: 'GET', path: input.mix.page, headers: input.headers })),
      { ...post, path: input.mix.post },
    ]
  : undefined;
// DPoP: one fresh proof per request, in order (the server refuses a proof it has seen: RFC 9449 jti). A proof is
// the DPoP header, or every header a request needs of its own (the proof and an RFC 9421 signature).
const proofs = input.proofs;
let nextProof = 0;
const withProof = (request) => {
  const fresh = proofs[nextProof++ % proofs.length];
  return {
    ...request,
    headers: { ...request.headers, ...(typeof fresh === 'string' ? { dpop: fresh } : fresh) },
  };
};
const result = await autocannon({
  url: input.url,
  connections: input.connections,
  duration: input.seconds,
  requests: mixed ?? [
    input.post
      ? post
      : {
          method: input.method,
          headers: input.headers,
          ...(proofs ? { setupRequest: withProof } : {}),
        },
  ],
});
process.stdout.write(
  JSON.stringify({
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    requests: result.requests.total,
    ok: result['2xx'],
    // Sessions a mixed run's POSTs asked for (one POST in ten requests, ten sessions each).
    posted: mixed ? Math.floor(result.requests.total / 10) * 10 : undefined,
  }),
);
