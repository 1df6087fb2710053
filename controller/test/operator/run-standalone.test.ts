import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freeLoopbackPorts } from '../../../test-support/kube/control-plane.js';
import { SqliteResourceStore } from '../../src/operator/backing/embedded/sqlite-resources.js';
import { PEERING_REQUEST, PEERING_SESSION } from '../../src/operator/resources/api-group.js';
import {
  PeeringRequestSpecSchema,
  type PeeringRequest,
} from '../../src/operator/resources/peering-request.js';
import {
  PeeringSessionSpecSchema,
  type PeeringSession,
} from '../../src/operator/resources/peering-session.js';
import { RecordingRouterDriver } from '../../src/router/recording.js';
import { REPO_ROOT } from '../support/sample.js';
import { postsAnswered } from './support/api-metrics.js';
import { eventually } from './support/cluster.js';
import {
  PEERINGDB_DIR,
  startNetwork,
  temporaryEmbeddedBacking,
  tokenOf,
  type Network,
} from './support/network.js';
import { outboundRequest } from './fixtures/manifests.js';

const BIN = join(REPO_ROOT, 'dist', 'controller', 'src', 'cli', 'peering-operator.js');
const A = 64500;
const B = 64501;

describe('peering-operator run --standalone (a subprocess) peering with another network', () => {
  const work = mkdtempSync(join(tmpdir(), 'peering-run-'));
  const b = temporaryEmbeddedBacking();
  let netB: Network;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    netB = await startNetwork({
      asn: B,
      callers: [A],
      backing: b.backing,
      router: new RecordingRouterDriver(),
      namespace: 'default',
    });
    writeFileSync(
      join(work, 'config.yaml'),
      stringify({
        asns: [A],
        apiUrl: 'http://127.0.0.1/v0.1',
        peeringdb: { dataDir: PEERINGDB_DIR },
        store: { dataDir: join(work, 'data') },
      }),
    );
    mkdirSync(join(work, 'manifests'));
    writeFileSync(
      join(work, 'manifests', 'as64501.yaml'),
      [
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'peer-b' }, stringData: { token: tokenOf(A) } },
        outboundRequest({
          name: 'as64501',
          localAsn: A,
          peerAsn: B,
          peerApiUrl: netB.apiUrl,
          tokenSecret: 'peer-b',
        }),
      ]
        .map((o) => stringify(o))
        .join('---\n'),
    );
  });
  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await netB?.stop();
    b.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  const run = (env: Record<string, string> = {}, healthPort = 0) => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'run',
        '--config',
        join(work, 'config.yaml'),
        '--standalone',
        '--manifests',
        join(work, 'manifests'),
        '--listen',
        '127.0.0.1:0',
        '--health-listen',
        `127.0.0.1:${healthPort}`,
        '--router',
        'recording',
        '--log-level',
        'error',
      ],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, stderr })),
    );
    return { child, exited };
  };

  it('killed (SIGKILL) right after the POST, restarted: one POST at the peer, the answer recorded, a clean SIGTERM exit', async () => {
    const origin = netB.operator.api?.origin as string;
    const crashed = await run({ PEERING_OPERATOR_CRASH_AT: 'afterPost' }).exited;
    expect(crashed.signal).toBe('SIGKILL');
    expect(await postsAnswered(origin)).toBe(1);

    const { health: port } = await freeLoopbackPorts(['health']);
    const second = run({}, port);
    const { items } = await eventually(
      async () => {
        const listed = await b.backing.sessions.list();
        return listed.items.length === 1 && listed.items[0]?.status?.state === 'configured' && listed;
      },
      20_000,
      'B configured',
    );
    // The restarted operator asked B what it recorded under the intent's id (instead of posting again), and
    // created its PeeringSession from the answer.
    await eventually(
      async () => {
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return (
          /operation="list",outcome="ok"\} [1-9]/.test(metrics) &&
          /peering_operator_sessions\{direction="Outbound"/.test(metrics)
        );
      },
      20_000,
      'the recovery look-up and the session',
    );
    second.child.kill('SIGTERM');
    const stopped = await second.exited;
    expect([stopped.code, stopped.signal]).toEqual([0, null]);
    expect(await postsAnswered(origin)).toBe(1);

    const store = new SqliteResourceStore(join(work, 'data'));
    try {
      const requests = store.collection<PeeringRequest>(PEERING_REQUEST, { spec: PeeringRequestSpecSchema });
      const sessions = store.collection<PeeringSession>(PEERING_SESSION, { spec: PeeringSessionSpecSchema });
      const request = await requests.get('default', 'as64501');
      expect(request?.status).toMatchObject({
        phase: 'Requested',
        sessionCounts: { accepted: 1, rejected: 0 },
      });
      expect(request?.status?.intent).toBeUndefined();
      const ours = (await sessions.list()).items;
      expect(ours.map((s) => s.spec.sessionId)).toEqual([items[0]?.spec.sessionId]);
    } finally {
      store.close();
    }
  });
});
