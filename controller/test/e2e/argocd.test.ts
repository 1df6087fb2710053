import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { findArgoCd, startArgoCd, type RunningArgoCd } from '../../../test-support/argocd/argocd.js';
import type { ControlPlane } from '../../../test-support/kube/control-plane.js';
import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import { BgpFabric } from '../operator/support/bgp-fabric.js';
import { CRDS_DIR, eventually, getObject, kubectlApply, listObjects } from '../operator/support/cluster.js';
import {
  createPeerTokenSecret,
  startClusterPair,
  type ClusterPair,
} from '../operator/support/cluster-network.js';
import { outboundRequest } from '../operator/fixtures/manifests.js';
import { tokenOf } from '../operator/support/network.js';
import { REPO_ROOT } from '../support/sample.js';

const GITOPS = join(REPO_ROOT, 'examples/gitops');
const found = findArgoCd();
if ('unavailable' in found && process.env['CI'] === 'true') throw new Error(found.unavailable);
function describeWithArgoCd(name: string, body: (plane: () => ControlPlane) => void): void {
  if ('dir' in found) describeWithControlPlane(name, body);
  else describe.skip(name, () => body(() => ({}) as ControlPlane));
}
if ('unavailable' in found) console.warn(`\n!!!! SKIPPED: Argo CD tests: ${found.unavailable} !!!!\n`);

/** A git repository on disk (a bare one, as a server holds it) and a working copy that commits and pushes. */
class GitRepository {
  readonly bare: string;
  readonly work: string;

  constructor(dir: string) {
    this.bare = join(dir, 'gitops.git');
    this.work = join(dir, 'gitops');
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', this.bare]);
    execFileSync('git', ['clone', '--quiet', this.bare, this.work], { stdio: 'ignore' });
  }

  get url(): string {
    return `file://${this.bare}`;
  }

  /** The commit the working copy is at. */
  head(): string {
    return execFileSync('git', ['-C', this.work, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  }

  commit(message: string, change: (work: string) => void): void {
    change(this.work);
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', this.work, ...args], {
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'noc',
          GIT_AUTHOR_EMAIL: 'noc@as64500.example.net',
          GIT_COMMITTER_NAME: 'noc',
          GIT_COMMITTER_EMAIL: 'noc@as64500.example.net',
        },
        stdio: 'ignore',
      });
    git('add', '-A');
    git('commit', '--quiet', '-m', message);
    git('push', '--quiet', 'origin', 'HEAD:main');
  }
}

/**
 * The GitOps example synced by Argo CD itself (application controller and repo server built from Argo CD's
 * module, test-support/argocd), with the example's argocd-cm health checks, from a git repository on disk,
 * against the real API server and two operators (AS64500, whose folder this is, and AS64501, the peer).
 */
describeWithArgoCd('Argo CD syncs the GitOps example against the real API server', (plane) => {
  const fabric = new BgpFabric();
  let pair: ClusterPair;
  let argo: RunningArgoCd;
  let repo: GitRepository;
  let work: string;

  /** Argo CD's view of one peer's Application (the ApplicationSet makes one per folder). */
  const healthOf = async (peer = 'as64501') => (await argo.application(`peer-${peer}`)) ?? {};
  const until = <T>(what: string, check: () => Promise<T | undefined | false>, ms = 60_000) =>
    eventually(check, ms, what).catch(async (error: Error) => {
      const states = { as64501: await healthOf(), as64503: await healthOf('as64503') };
      throw new Error(`${error.message}\n${JSON.stringify(states)}\n${argo.logTail()}`);
    });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'peering-argocd-'));
    await plane().installCRDs(CRDS_DIR);
    // AS64500 (this repository's network) approves inbound sessions by hand: in git.
    pair = await startClusterPair(plane(), fabric, { prefix: 'gitops', a: { approval: 'manual' } });
    // The token AS64501 issued to us, created out of band as the example says.
    await kubectlApply(plane(), [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'peering-as64501', namespace: pair.nsA },
        stringData: { token: tokenOf(64500) },
      },
    ]);
    // The example's peers, with AS64501's Peering API where this test runs it.
    repo = new GitRepository(work);
    repo.commit('peers: AS64501 (two sessions at pdb:ix:1), AS64503 approved', (dir) => {
      mkdirSync(join(dir, 'peers'), { recursive: true });
      cpSync(join(GITOPS, 'peers/as64501'), join(dir, 'peers/as64501'), { recursive: true });
      cpSync(join(GITOPS, 'peers/as64503'), join(dir, 'peers/as64503'), { recursive: true });
      const file = join(dir, 'peers/as64501/peeringrequest.yaml');
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace('https://peering.as64501.example.net/v0.1', pair.netB.apiUrl),
      );
    });
    const argocdCm = (
      parse(readFileSync(join(GITOPS, 'argocd/argocd-cm.yaml'), 'utf8')) as { data: Record<string, string> }
    ).data;
    argo = await startArgoCd(plane(), {
      dir: (found as { dir: string }).dir,
      workDir: join(work, 'argocd'),
      argocdCm,
    });
    // The example's ApplicationSet for the peers, pointing at this repository and AS64500's namespace.
    const set = parse(readFileSync(join(GITOPS, 'apps/peers.yaml'), 'utf8')) as {
      spec: {
        generators: { git: { repoURL: string } }[];
        template: { spec: { source: { repoURL: string }; destination: { namespace: string } } };
      };
    };
    for (const generator of set.spec.generators) generator.git.repoURL = repo.url;
    set.spec.template.spec.source.repoURL = repo.url;
    set.spec.template.spec.destination.namespace = pair.nsA;
    writeFileSync(join(work, 'peers.yaml'), stringify(set));
    await plane().kubectl(['apply', '-f', join(work, 'peers.yaml')]);
  }, 180_000);

  afterAll(async () => {
    await argo?.stop();
    await pair?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('syncs the peers from empty to Synced and Healthy: both sessions established on both sides', async () => {
    const started = performance.now();
    // Healthy only counts once the operator has answered (before any status, our check says Progressing).
    const healthy = await until(
      'Synced/Healthy',
      async () => {
        const state = await healthOf();
        const request = await getObject<{ status?: { phase?: string } }>(
          plane(),
          'peeringrequest',
          pair.nsA,
          'as64501',
        );
        return (
          request?.status?.phase === 'Established' &&
          state.sync === 'Synced' &&
          state.health === 'Healthy' &&
          state
        );
      },
      120_000,
    );
    console.log(`[argocd] commit → Synced/Healthy: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(healthy).toMatchObject({ sync: 'Synced', health: 'Healthy' });
    const request = await getObject<{ status?: { phase?: string; sessionCounts?: { established: number } } }>(
      plane(),
      'peeringrequest',
      pair.nsA,
      'as64501',
    );
    expect(request?.status).toMatchObject({ phase: 'Established', sessionCounts: { established: 2 } });
  }, 150_000);

  it('says Degraded within 30 s when BGP goes down on the router, and Healthy again when it is back', async () => {
    const router = fabric.routers.get(64500);
    const key = [...(router?.configured().values() ?? [])].find((d) => d.peerIp === '192.0.2.2')
      ?.key as string;
    const started = performance.now();
    router?.setBgpState(key, 'active', { lastError: 'Hold timer expired' });
    const degraded = await until('Degraded', async () => {
      const state = await healthOf();
      return state.health === 'Degraded' && state;
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(`[argocd] BGP down → Application Degraded: ${seconds.toFixed(1)} s`);
    expect(seconds).toBeLessThanOrEqual(30);
    router?.setBgpState(key, 'established');
    await until('Healthy again', async () => (await healthOf()).health === 'Healthy');
    expect(degraded.health).toBe('Degraded');
  }, 90_000);

  it('approves an inbound request by a commit of an approval file: the session ends established', async () => {
    // AS64501 asks us (AS64500) for a session at pdb:ix:2 through our Peering API; our policy leaves it pending.
    await createPeerTokenSecret(plane(), pair.nsB, 'peer-as64500', 64501);
    await kubectlApply(plane(), [
      outboundRequest({
        name: 'as64500',
        namespace: pair.nsB,
        localAsn: 64501,
        peerAsn: 64500,
        peerApiUrl: pair.netA.apiUrl,
        tokenSecret: 'peer-as64500',
        sessions: [{ location: 'pdb:ix:2', localIp: '198.51.100.2', peerIp: '198.51.100.1' }],
      }),
    ]);
    const inbound = await until('pending at AS64500', async () => {
      const sessions = await listObjects<{ spec: { peerIp: string }; status?: { state?: string } }>(
        plane(),
        'peeringsessions',
        pair.nsA,
      );
      return sessions.find((s) => s.spec.peerIp === '198.51.100.2' && s.status?.state === 'pending');
    });
    expect(inbound.status?.state).toBe('pending');
    // The pull request: peers/as64501/approval.yaml, a PeeringApproval of that session (our reading).
    const started = performance.now();
    repo.commit('approve AS64501 at pdb:ix:2', (dir) =>
      writeFileSync(
        join(dir, 'peers/as64501/approval.yaml'),
        stringify({
          apiVersion: 'peering.autopeer.dev/v1alpha1',
          kind: 'PeeringApproval',
          metadata: { name: 'as64501' },
          spec: {
            peerAsn: 64501,
            sessions: [{ location: 'pdb:ix:2', localIp: '198.51.100.1', peerIp: '198.51.100.2' }],
          },
        }),
      ),
    );
    await argo.refresh('peer-as64501');
    await until('established at AS64501', async () => {
      const request = await getObject<{ status?: { phase?: string } }>(
        plane(),
        'peeringrequest',
        pair.nsB,
        'as64500',
      );
      return request?.status?.phase === 'Established';
    });
    console.log(
      `[argocd] approval commit → established: ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    await until('Synced/Healthy with the approval', async () => {
      const state = await healthOf();
      return state.sync === 'Synced' && state.health === 'Healthy';
    });
  }, 120_000);

  it('fails only its own peer’s sync on a bad file, with the API server’s message; the other peers keep syncing', async () => {
    repo.commit('AS64503: an approval without its peer, and AS64501: one more approved session', (dir) => {
      writeFileSync(
        join(dir, 'peers/as64503/broken.yaml'),
        stringify({
          apiVersion: 'peering.autopeer.dev/v1alpha1',
          kind: 'PeeringApproval',
          metadata: { name: 'as64503-broken' },
          spec: { sessions: [{ location: 'pdb:ix:1', localIp: '192.0.2.1', peerIp: '192.0.2.3' }] },
        }),
      );
      const file = join(dir, 'peers/as64501/approval.yaml');
      const approval = parse(readFileSync(file, 'utf8')) as { spec: { sessions: object[] } };
      approval.spec.sessions.push({
        location: 'pdb:ix:1',
        localIp: '2001:db8:1::1',
        peerIp: '2001:db8:1::2',
      });
      writeFileSync(file, stringify(approval));
    });
    const commit = repo.head();
    await argo.refresh('peer-as64503');
    await argo.refresh('peer-as64501');
    // Argo CD retries a failed automated sync (with backoff); its message is the API server's refusal.
    const failed = await until('AS64503 failed', async () => {
      const state = await healthOf('as64503');
      return state.revision === commit && /unsuccessfully/.test(state.operationMessage ?? '') && state;
    });
    expect(failed.sync).toBe('OutOfSync');
    expect(failed.operationMessage).toMatch(
      /PeeringApproval\.peering\.autopeer\.dev "as64503-broken" is invalid: .*spec\.peerAsn: Required value/,
    );
    // AS64501's Application took the same commit: Synced and Healthy.
    await until('AS64501 synced to the same commit', async () => {
      const state = await healthOf('as64501');
      return state.revision === commit && state.sync === 'Synced' && state.health === 'Healthy';
    });
    const approval = await getObject<{ spec: { sessions: unknown[] } }>(
      plane(),
      'peeringapproval',
      pair.nsA,
      'as64501',
    );
    expect(approval?.spec.sessions).toHaveLength(2);
  }, 120_000);

  it('de-peers on both sides when a commit deletes the peer’s folder (automated prune)', async () => {
    repo.commit('de-peer AS64501', (dir) => rmSync(join(dir, 'peers/as64501'), { recursive: true }));
    await argo.refresh('peer-as64501');
    await until(
      'the request gone at AS64500',
      async () => (await getObject(plane(), 'peeringrequest', pair.nsA, 'as64501')) === undefined,
      90_000,
    );
    // The finalizer sent DELETE /sessions/{id}: AS64501's side of them went too (its own request to us stays).
    await until('no inbound session left at AS64501', async () => {
      const { stdout } = await plane().kubectl([
        'get',
        'peeringsessions',
        '-n',
        pair.nsB,
        '-l',
        'peering.autopeer.dev/direction=inbound',
        '-o',
        'name',
      ]);
      return stdout.trim() === '';
    });
    expect(fabric.configured(64500).map((d) => d.peerIp)).toEqual(['198.51.100.2']);
  }, 120_000);
});
