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

const result = await autocannon({
  url: input.url,
  connections: input.connections,
  duration: input.seconds,
  requests: [
    input.post
      ? {
          method: 'POST',
          headers: input.headers,
          setupRequest: (request) => ({
            ...request,
            body: JSON.stringify({ sessions: Array.from({ length: 10 }, () => session(next++)) }),
          }),
        }
      : { method: input.method, headers: input.headers },
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
  }),
);
