import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PeeringApiClient } from '../../src/client/client.js';
import { NoRouterDriver } from '../../src/router/no-router.js';
import { RecordingRouterDriver } from '../../src/router/recording.js';
import { REPO_ROOT } from '../support/sample.js';
import { eventually } from './support/cluster.js';
import { startNetworkPair, tokenOf, type NetworkPair } from './support/network.js';

const A = 64500;
const BIN = join(REPO_ROOT, 'dist', 'controller', 'src', 'cli', 'peering-operator.js');

// Issue 15: an operator with no router must say so on every session, and never tell the peer "configured".
describe('an operator running with --router none', () => {
  let pair: NetworkPair;

  beforeAll(async () => {
    pair = await startNetworkPair({ a: new RecordingRouterDriver(), b: new NoRouterDriver() });
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('marks each session Configured=False NoRouter naming its address, and the peer never reads configured', async () => {
    const { a, b, netB } = pair;
    await a.backing.requests.create(pair.requestToB('as64501'));
    const session = await eventually(
      async () => {
        const [only] = (await b.backing.sessions.list()).items;
        const configured = only?.status?.conditions?.find((c) => c.type === 'Configured');
        return configured?.reason === 'NoRouter' && only;
      },
      20_000,
      "B's session NoRouter",
    );
    const configured = session.status?.conditions?.find((c) => c.type === 'Configured');
    expect(configured).toMatchObject({ status: 'False', reason: 'NoRouter' });
    expect(configured?.message).toContain('192.0.2.2');
    expect(session.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False' });
    // A few reconciles later the peer still reads the session as approved, never configured.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const client = new PeeringApiClient({ apiUrl: netB.apiUrl, auth: tokenOf(A), localAsns: [A] });
    try {
      const seen = await client.getSession(session.spec.sessionId);
      expect(seen?.status).toBe('approved');
    } finally {
      await client.close();
    }
    expect((await b.backing.sessions.get('default', session.metadata.name))?.status?.state).toBe('approved');
  });
});

const EXAMPLE_CONFIG = join(REPO_ROOT, 'examples', 'peering-operator.yaml');

/** `peering-operator ARGS` as a user runs it; resolves with its exit status and output. */
function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
}

describe('peering-operator run without a router choice', () => {
  it('refuses to start, naming both choices (a production start never falls back to the recording driver)', () => {
    const run = cli(['run', '--config', EXAMPLE_CONFIG, '--standalone', '--manifests', REPO_ROOT]);
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/--router agents/);
    expect(run.stderr).toMatch(/--router bird/);
    expect(run.stderr).toMatch(/--router none/);
  });

  it('refuses router agents standalone (Routers are Kubernetes resources), and an agent without its daemon', () => {
    const standalone = cli(['run', '--config', EXAMPLE_CONFIG, '--standalone', '--router', 'agents']);
    expect(standalone.status).toBe(3);
    expect(standalone.stderr).toMatch(/--router agents needs Kubernetes/);
    const agent = (args: string[]) => cli(['router-agent', '--router', 'edge1', ...args]);
    const noSocket = agent(['--driver', 'bird']);
    expect(noSocket.status).toBe(3);
    expect(noSocket.stderr).toMatch(/--driver bird needs --bird-socket and --bird-include-dir/);
    const quagga = agent(['--driver', 'quagga']);
    expect(quagga.status).toBe(3);
    expect(quagga.stderr).toMatch(/--driver must be bird \(BIRD 2\) or frr/);
    expect(agent([]).stderr).toMatch(/--driver <kind>/);
  });
});
