import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { Logger } from '../operator/runtime/logger.js';
import { findBirdBinary } from '../router/bird/bird-process.js';
import { describeChanges, snapshotOf, summaryOf, type NetworkSnapshot } from './narration.js';
import {
  DEMO_LOCATION,
  bindable,
  freePort,
  startTwoNetworks,
  type LabNetwork,
  type TwoNetworks,
} from './two-networks.js';

/** The ports the demo prefers, so its URLs stay the same from run to run (a busy one is replaced by a free one). */
export const DEMO_PORTS = { issuer: 9400, apiA: 8500, apiB: 8501, bgp: 1790 } as const;

export interface DemoOptions {
  /** The repository's `examples/` folder. */
  examplesDir: string;
  /** Where the demo keeps its files; default a new temporary folder, removed when the demo stops. */
  workDir?: string | undefined;
  /** Keep `workDir` when stopping (to read the logs and configurations afterwards). */
  keep?: boolean | undefined;
  /** Ports to use; each one given must be free. Left out: {@link DEMO_PORTS}, or a free port when that is busy. */
  ports?: Partial<Record<keyof typeof DEMO_PORTS, number | undefined>> | undefined;
  /** Where the demo's lines go; default stdout. */
  out?: ((line: string) => void) | undefined;
  /** How often the steady state is shown once established; default 30 s. */
  summaryEveryMs?: number | undefined;
}

export interface RunningDemo {
  workDir: string;
  /** Resolves with the milliseconds from applying the PeeringRequest to both operators reporting `established`. */
  established: Promise<number>;
  /** Stops everything the demo started: operators, BIRDs, issuer; removes `workDir` unless kept. */
  stop(): Promise<void>;
}

/** The demo cannot run here, with what to do about it. */
export class DemoUnavailableError extends Error {
  override readonly name = 'DemoUnavailableError';
}

/**
 * The two-network demo (`peering-operator demo`, `npm run demo`): a PeeringDB-like issuer, and AS64500 and
 * AS64501 each with its own BIRD on its own loopback address and its own operator with its Peering API. AS64500
 * applies a PeeringRequest; the demo prints the negotiation step by step — request sent, accepted, configured
 * on each side, BGP states, established with the time it took, the routes received — and then keeps showing the
 * state until stopped. See docs/demo.md.
 *
 * @example
 * const demo = await runDemo({ examplesDir: 'examples' });
 * console.log(`established after ${await demo.established} ms`);
 * await demo.stop();
 */
export async function runDemo(options: DemoOptions): Promise<RunningDemo> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const repoRoot = resolve(options.examplesDir, '..');
  ensureBird(repoRoot, out);
  const ports = await choosePorts(options.ports ?? {}, out);
  const ownWorkDir = options.workDir === undefined;
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'peering-demo-'));
  const logs: WriteStream[] = [];
  const cleanUp = () => {
    for (const log of logs) log.end();
    if (ownWorkDir && !options.keep) rmSync(workDir, { recursive: true, force: true });
  };

  out('peering-operator demo: two networks on this machine peer through the Peering API and real BGP');
  let lab;
  try {
    lab = await startTwoNetworks({
      workDir,
      examplesDir: options.examplesDir,
      ports,
      logger: (asn) => {
        const log = createWriteStream(join(workDir, `as${asn}`, 'operator.log'), { flags: 'a' });
        logs.push(log);
        return new Logger({ level: 'info', sink: (line) => log.write(`${line}\n`) });
      },
    });
  } catch (error) {
    cleanUp();
    throw error;
  }
  const { a, b, issuer } = lab;
  const birdPids = [a.bird.pid, b.bird.pid];
  out('');
  out(`  issuer     ${issuer.issuer}  (PeeringDB-like OAuth 2.0 / OIDC; examples/demo/issuer-accounts.yaml)`);
  for (const network of [a, b]) {
    out(
      `  AS${network.asn}    Peering API ${network.apiUrl}   BIRD ${network.plan.address} port ${lab.bgpPort} (pid ${network.bird.pid ?? '?'})`,
    );
  }
  out(
    `  PeeringDB  examples/demo/peeringdb: both at Loopback IX (${DEMO_LOCATION}, 127.0.0.0/24): AS${a.asn} ${a.plan.address}, AS${b.asn} ${b.plan.address}`,
  );
  out(`  files      ${workDir}${ownWorkDir && !options.keep ? ' (removed on exit; --keep keeps it)' : ''}`);
  out('');

  const started = performance.now();
  const stamp = () => `[${((performance.now() - started) / 1000).toFixed(2).padStart(6)} s]`;
  const say = (line: string) => out(`${stamp()} ${line}`);

  // A token like the one AS64500's operator presents at AS64501's API, saved for trying the API by hand.
  const tokenFile = join(a.dir, `token-for-as${b.asn}`);
  writeFileSync(tokenFile, `${await a.token(b.apiUrl)}\n`, { mode: 0o600 });
  if (lab.peerAuth === 'dpop+signature') {
    say(
      `AS${a.asn} and AS${b.asn} require dpop+signature of each other (auth.callers): DPoP-bound tokens (RFC 9449) and a signature on every request (RFC 9421, Content-Digest RFC 9530)`,
    );
    say(
      `AS${a.asn}: its operator holds DPoP key ${a.dpopKey.thumbprint} (Secret ${lab.tokenSecret}, with its OAuth client secret); the issuer binds its JWTs for ${b.apiUrl} to that key`,
    );
  } else {
    say(
      `AS${a.asn}: got a JWT for AS${b.asn}'s API from the issuer (client credentials, resource ${b.apiUrl}); stored in Secret ${lab.tokenSecret}`,
    );
  }
  const request = await lab.apply();
  say(`AS${a.asn}: applying this PeeringRequest:`);
  for (const line of stringify(request).trimEnd().split('\n')) out(`           ${line}`);

  let resolveEstablished: (ms: number) => void = () => undefined;
  const established = new Promise<number>((resolve) => (resolveEstablished = resolve));
  let running = true;
  let birdsUp = false;
  let bothReported = false;
  let lastSummary = 0;
  const previous = new Map<number, NetworkSnapshot>();
  const look = async (network: LabNetwork): Promise<NetworkSnapshot | undefined> => {
    const store = network.backing;
    if (!store) return undefined;
    try {
      return await snapshotOf(network.asn, store.backing, store.namespace, network.bird);
    } catch {
      return undefined; // a store closing while the demo stops
    }
  };
  const watch = async () => {
    while (running) {
      const snapshots = (await Promise.all([look(a), look(b)])).filter(
        (s): s is NetworkSnapshot => s !== undefined,
      );
      if (!running) break;
      const steps = snapshots.flatMap((snapshot) => describeChanges(previous.get(snapshot.asn), snapshot));
      for (const step of steps.sort((x, y) => x.stage - y.stage)) say(step.text);
      for (const snapshot of snapshots) previous.set(snapshot.asn, snapshot);
      const ms = performance.now() - started;
      const [sa, sb] = [previous.get(a.asn), previous.get(b.asn)];
      if (!birdsUp && sa && sb && bgpEstablished(sa) && bgpEstablished(sb)) {
        birdsUp = true;
        say(
          `★ BGP Established on both BIRDs (birdc agrees), ${(ms / 1000).toFixed(1)} s after the PeeringRequest`,
        );
      }
      if (!bothReported && sa && sb && reportsEstablished(sa) && reportsEstablished(sb)) {
        bothReported = true;
        lastSummary = performance.now();
        say(
          `★ established: both operators report it (AS${a.asn} as AS${b.asn}'s API says, AS${b.asn} from its BIRD), ${(ms / 1000).toFixed(1)} s after the PeeringRequest`,
        );
        const proofs = await provenRequests(b.apiUrl);
        if (proofs !== undefined) {
          say(
            `AS${b.asn}'s API verified ${Object.entries(proofs)
              .map(([proof, count]) => `${count} request(s) by ${proof}`)
              .join(', ')} (peering_api_authenticated_requests_total)`,
          );
        }
        tryItYourself(out, lab, tokenFile);
        resolveEstablished(ms);
      }
      if (bothReported && sa && sb && performance.now() - lastSummary >= (options.summaryEveryMs ?? 30_000)) {
        lastSummary = performance.now();
        out(`[${new Date().toLocaleTimeString()}] ${summaryOf(sa)} | ${summaryOf(sb)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const watching = watch();

  let stopping: Promise<void> | undefined;
  return {
    workDir,
    established,
    stop: () =>
      (stopping ??= (async () => {
        running = false;
        await watching.catch(() => undefined);
        out('Stopping: both operators, both BIRDs, the issuer…');
        try {
          await lab.stop();
        } finally {
          cleanUp();
        }
        out(
          `Stopped (BIRD pids ${birdPids.join(', ')} ended).${options.keep ? ` Files kept in ${workDir}` : ''}`,
        );
      })()),
  };
}

function bgpEstablished(snapshot: NetworkSnapshot): boolean {
  return !('unreachable' in snapshot.bird) && snapshot.bird.some((p) => p.bgpState === 'Established');
}

function reportsEstablished(snapshot: NetworkSnapshot): boolean {
  return snapshot.sessions.length > 0 && snapshot.sessions.every((s) => s.state === 'established');
}

/** What the requests a Peering API authenticated proved, by kind, from its `/metrics`; undefined if unreadable. */
export async function provenRequests(apiUrl: string): Promise<Record<string, number> | undefined> {
  try {
    const text = await (await fetch(`${new URL(apiUrl).origin}/metrics`)).text();
    const counts: Record<string, number> = {};
    for (const [, proof, count] of text.matchAll(
      /^peering_api_authenticated_requests_total\{proof="([^"]+)"\} (\d+)/gm,
    )) {
      counts[proof as string] = Number(count);
    }
    return counts;
  } catch {
    return undefined;
  }
}

function tryItYourself(out: (line: string) => void, lab: TwoNetworks, tokenFile: string): void {
  const { a, b } = lab;
  const birdc = existsSync('/usr/sbin/birdc') ? '/usr/sbin/birdc' : 'birdc';
  const peeringctl = resolve(dirname(fileURLToPath(import.meta.url)), '../cli/peeringctl.js');
  const signed = lab.peerAuth === 'dpop+signature';
  const keyFlag = signed ? ` --dpop-key ${join(a.dir, 'dpop.jwk')}` : '';
  out('');
  out('Look for yourself while the demo runs (another terminal):');
  out(`  ${birdc} -s ${a.bird.socketPath} show protocols all`);
  out(`  ${birdc} -s ${b.bird.socketPath} show route`);
  out(
    `  node ${peeringctl} list --api-url ${b.apiUrl} --local-asn ${a.asn} --token "$(cat ${tokenFile})"${keyFlag}`,
  );
  if (signed)
    out(`  # the same token without its key, as a thief would send it, is refused (DPOP_SCHEME_REQUIRED):`);
  out(`  curl -s -H "Authorization: Bearer $(cat ${tokenFile})" '${b.apiUrl}/sessions?asn=${a.asn}'`);
  out(`  operator logs: ${join(a.dir, 'operator.log')}, ${join(b.dir, 'operator.log')}`);
  out('How each piece runs by hand: docs/demo.md. Ctrl-C stops everything the demo started.');
  out('');
}

/** BIRD 2 is there, or installed now (as root, by the project's setup script), or a clear error says how. */
function ensureBird(repoRoot: string, out: (line: string) => void): void {
  if (findBirdBinary() !== undefined) return;
  const script = join(repoRoot, 'scripts', 'setup.d', '20-bird.sh');
  const root = process.getuid?.() === 0;
  if (root && existsSync(script)) {
    out('BIRD 2 is not installed: installing it with scripts/setup.d/20-bird.sh (Debian package bird2)…');
    const result = spawnSync('bash', [script], { stdio: 'inherit' });
    if (result.status === 0 && findBirdBinary(true) !== undefined) return;
  }
  throw new DemoUnavailableError(
    [
      'the demo needs BIRD 2 (the `bird` daemon, Debian package bird2), which is not installed.',
      root
        ? `  Installing it failed; try by hand: apt-get update && apt-get install bird2`
        : `  Install it as root: sudo bash ${existsSync(script) ? script : 'scripts/setup.d/20-bird.sh'}   (or: sudo apt-get install bird2)`,
      '  then run the demo again: npm run demo',
    ].join('\n'),
  );
}

async function choosePorts(
  wanted: NonNullable<DemoOptions['ports']>,
  out: (line: string) => void,
): Promise<Record<keyof typeof DEMO_PORTS, number>> {
  const chosen = {} as Record<keyof typeof DEMO_PORTS, number>;
  for (const key of Object.keys(DEMO_PORTS) as (keyof typeof DEMO_PORTS)[]) {
    const hosts = key === 'bgp' ? ['127.0.0.2', '127.0.0.3'] : ['127.0.0.1'];
    const given = wanted[key];
    if (given !== undefined) {
      if (!(await bindable(hosts, given))) {
        throw new DemoUnavailableError(
          `port ${given} (${key}) is in use on ${hosts.join(', ')}: choose another`,
        );
      }
      chosen[key] = given;
    } else if (await bindable(hosts, DEMO_PORTS[key])) {
      chosen[key] = DEMO_PORTS[key];
    } else {
      chosen[key] = await freePort(hosts);
      out(`(port ${DEMO_PORTS[key]} is busy; ${key} uses ${chosen[key]} instead)`);
    }
  }
  return chosen;
}
