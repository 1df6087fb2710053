import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  findArgoCd,
  startArgoCd,
  type ArgoApplicationState,
  type RunningArgoCd,
} from '../../../test-support/argocd/argocd.js';
import { freeLoopbackPorts, type ControlPlane } from '../../../test-support/kube/control-plane.js';
import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import {
  DEMO_LOCATION,
  DEMO_NETWORKS,
  startTwoNetworks,
  type TwoNetworks,
} from '../../src/demo/two-networks.js';
import { birdBinaryPath } from '../support/bird.js';
import { EXAMPLES_DIR, REPO_ROOT } from '../support/sample.js';
import { findHelm } from '../packaging/helm.js';
import { eventually, getObject, kubectlApply, listObjects } from '../operator/support/cluster.js';
import { kubeLabBacking } from './support/kube-lab.js';
import { peeringProtocols } from './support/observe.js';

const GITOPS = join(REPO_ROOT, 'examples/gitops');
/** The example's namespace for the operator and its peers (apps/peering-operator.yaml, apps/peers.yaml). */
const NAMESPACE = 'peering';
/** The chart's ServiceAccount for release `peering` (apps/peering-operator.yaml). */
const CHART_SERVICE_ACCOUNT = 'peering-peering-operator';
const [AS64500, AS64501] = DEMO_NETWORKS;

/** Everything this suite needs besides the control plane: Argo CD, redis, helm (for the chart), BIRD. */
function missingParts(): string[] {
  const missing: string[] = [];
  const argocd = findArgoCd();
  if ('unavailable' in argocd) missing.push(argocd.unavailable);
  const helm = findHelm();
  if (helm.kind !== 'binary') missing.push('helm is not built: run scripts/setup.d/30-helm.sh');
  if (birdBinaryPath() === undefined) missing.push('BIRD is not installed: run scripts/setup.d/20-bird.sh');
  return missing;
}
const missing = missingParts();
if (missing.length > 0 && process.env['CI'] === 'true') throw new Error(missing.join('; '));
function describeWithArgoCd(name: string, body: (plane: () => ControlPlane) => void): void {
  if (missing.length === 0) describeWithControlPlane(name, body, { controllerManager: true });
  else {
    console.warn(`\n!!!! SKIPPED: Argo CD tests: ${missing.join('; ')} !!!!\n`);
    describe.skip(name, () => body(() => ({}) as ControlPlane));
  }
}

/** A git repository on disk (a bare one, as a server holds it) and a working copy that commits and pushes. */
class GitRepository {
  readonly bare: string;
  readonly work: string;

  constructor(dir: string) {
    this.bare = join(dir, 'repository.git');
    this.work = join(dir, 'work');
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

  commit(message: string, change: (work: string) => void, tag?: string): void {
    change(this.work);
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', this.work, ...args], {
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'noc',
          GIT_AUTHOR_EMAIL: 'noc@example.net',
          GIT_COMMITTER_NAME: 'noc',
          GIT_COMMITTER_EMAIL: 'noc@example.net',
        },
        stdio: 'ignore',
      });
    git('add', '-A');
    git('commit', '--quiet', '-m', message);
    git('push', '--quiet', 'origin', 'HEAD:main');
    if (tag) {
      git('tag', tag);
      git('push', '--quiet', 'origin', tag);
    }
  }
}

/** Every `from` in the YAML files under `dir` replaced by `to`. */
function replaceInYaml(dir: string, from: string, to: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.yaml')) continue;
    const file = join(entry.parentPath, entry.name);
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll(from, to));
  }
}

/** Edits one YAML file in place (comments are not kept: these are the test's copies). */
function editYaml<T>(file: string, edit: (object: T) => void): void {
  const object = parse(readFileSync(file, 'utf8')) as T;
  edit(object);
  writeFileSync(file, stringify(object));
}

interface ApplicationSetDoc {
  metadata: { name: string };
  spec: {
    generators: { git: { repoURL: string; requeueAfterSeconds?: number } }[];
    template: {
      metadata: { name: string };
      spec: { source: { repoURL: string }; destination: { namespace: string } };
    };
  };
}

/**
 * The GitOps example synced by Argo CD itself (application controller, repo server and ApplicationSet controller
 * built from Argo CD's module, test-support/argocd), with the example's argocd-cm health checks, against the real
 * API server (with kube-controller-manager, so Deployments and PodDisruptionBudgets get real statuses).
 *
 * Two networks of the lab, each with its BIRD and its operator: AS64500, whose repository is `examples/gitops`
 * (the root Application syncs the CRDs, the chart and the peers from it), and AS64501, the peer, which approves
 * inbound sessions by hand, in a repository of its own (`peers/as64500/approval.yaml`). AS64500's operator runs out
 * of cluster as the chart's ServiceAccount, with the chart's RBAC: there is no kubelet here to run its pods.
 */
describeWithArgoCd(
  'Argo CD syncs the GitOps example: two operators on BIRD, the real API server',
  (plane) => {
    let argo: RunningArgoCd;
    let work: string;
    /** AS64500's GitOps repository: a copy of examples/gitops. */
    let gitops: GitRepository;
    /** AS64501's GitOps repository: its approvals. */
    let peerGitops: GitRepository;
    /** The peering-operator repository at the release the example names (its crds/ and charts/). */
    let release: GitRepository;
    let lab: TwoNetworks | undefined;
    let ports: { apiA: number; apiB: number };
    const peerApiUrl = () => `http://127.0.0.1:${ports.apiB}/v0.1`;

    const app = async (name: string): Promise<ArgoApplicationState> => (await argo.application(name)) ?? {};
    const until = <T>(what: string, check: () => Promise<T | undefined | false>, ms = 60_000) =>
      eventually(check, ms, what).catch(async (error: Error) => {
        const names = ['peering', 'peering-crds', 'peering-operator', 'peer-as64501', 'peer-as64503'];
        const states = Object.fromEntries(
          await Promise.all(
            names.map(async (n) => {
              const state = await app(n);
              // Only what is not Synced: the list of every resource drowns the message.
              const resources = state.resources?.filter((r) => r.status !== 'Synced');
              return [n, { ...state, resources }];
            }),
          ),
        );
        const { stdout: objects } = await plane().kubectl([
          'get',
          'peeringrequests,peeringsessions',
          '-A',
          '-o',
          'jsonpath={range .items[*]}{.kind} {.metadata.namespace}/{.metadata.name}: {.status}{"\\n"}{end}',
        ]);
        const { stdout: sets } = await plane().kubectl([
          'get',
          'applicationsets.argoproj.io',
          '-n',
          'argocd',
          '-o',
          'jsonpath={range .items[*]}{.metadata.name}: {.status.conditions}{"\\n"}{end}',
        ]);
        throw new Error(
          `${error.message}\n${JSON.stringify(states)}\n${objects}\n${sets}\n${argo.logTail()}`,
        );
      });
    const synced = (name: string) => async () => {
      const state = await app(name);
      return state.sync === 'Synced' && state;
    };
    const healthy = (name: string) => async () => {
      const state = await app(name);
      return state.sync === 'Synced' && state.health === 'Healthy' && state;
    };
    const requestPhase = async (namespace: string, name: string) =>
      (await getObject<{ status?: { phase?: string } }>(plane(), 'peeringrequest', namespace, name))?.status
        ?.phase;
    const bgpStates = async () => {
      const running = lab as TwoNetworks;
      return Promise.all(
        [running.a, running.b].map(async (n) => (await peeringProtocols(n.bird)).map((p) => p.bgpState)),
      );
    };

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'peering-argocd-'));
      ports = await freeLoopbackPorts(['apiA', 'apiB']);
      release = new GitRepository(join(work, 'peering-operator'));
      release.commit(
        'peering-operator v0.1.0',
        (dir) => {
          cpSync(join(REPO_ROOT, 'crds'), join(dir, 'crds'), { recursive: true });
          cpSync(join(REPO_ROOT, 'charts'), join(dir, 'charts'), { recursive: true });
        },
        'v0.1.0',
      );
      gitops = new GitRepository(join(work, 'as64500'));
      gitops.commit('peering for AS64500: the operator and two peers', (dir) => {
        cpSync(GITOPS, dir, { recursive: true });
        // AS64502 is found through PeeringDB's real records; no such network runs here.
        rmSync(join(dir, 'peers/as64502'), { recursive: true });
        replaceInYaml(dir, 'https://git.example.net/peering-operator/peering-operator.git', release.url);
        replaceInYaml(dir, 'https://git.example.net/network/peering-gitops.git', gitops.url);
        // What a push webhook would do for the ApplicationSet: look at the repository again soon, not in 3 minutes.
        editYaml<ApplicationSetDoc>(join(dir, 'apps/peers.yaml'), (set) => {
          for (const generator of set.spec.generators) generator.git.requeueAfterSeconds = 5;
        });
        // What cannot become Healthy on a control plane without an ingress controller or the Prometheus operator.
        editYaml<{ ingress: { enabled: boolean }; serviceMonitor: { enabled: boolean } }>(
          join(dir, 'operator/values.yaml'),
          (values) => {
            values.ingress.enabled = false;
            values.serviceMonitor.enabled = false;
          },
        );
        // AS64501's Peering API where the lab runs it, and the one session of the lab's Loopback IX.
        editYaml<{ spec: { peerApiUrl: string; sessions: object[] } }>(
          join(dir, 'peers/as64501/peeringrequest.yaml'),
          (request) => {
            request.spec.peerApiUrl = peerApiUrl();
            request.spec.sessions = [
              {
                location: DEMO_LOCATION,
                localIp: AS64500.address,
                peerIp: AS64501.address,
                localBgpRole: 4,
                peerBgpRole: 4,
              },
            ];
          },
        );
      });
      peerGitops = new GitRepository(join(work, 'as64501'));
      peerGitops.commit('AS64501: approvals of inbound sessions live under peers/', (dir) =>
        writeFileSync(join(dir, 'README.md'), 'One folder per peer network under peers/.\n'),
      );

      const argocdCm = (
        parse(readFileSync(join(GITOPS, 'argocd/argocd-cm.yaml'), 'utf8')) as { data: Record<string, string> }
      ).data;
      const helm = findHelm();
      argo = await startArgoCd(plane(), {
        dir: (findArgoCd() as { dir: string }).dir,
        workDir: join(work, 'argocd'),
        argocdCm,
        path: helm.kind === 'binary' ? [dirname(helm.path)] : [],
      });
    }, 180_000);

    afterAll(async () => {
      await lab?.stop();
      await argo?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('syncs from empty: the CRDs, then the chart, then the peers, whose request waits for the peer’s approval', async () => {
      const started = performance.now();
      await plane().kubectl(['apply', '-n', 'argocd', '-f', join(gitops.work, 'argocd/root-app.yaml')]);
      // Wave -2: the CRDs. Nothing of ours existed before.
      await until('the CRDs Synced and Healthy', healthy('peering-crds'), 120_000);
      const { stdout: crds } = await plane().kubectl(['get', 'crds', '-o', 'name']);
      for (const kind of ['peeringrequests', 'peeringsessions', 'peeringapprovals', 'routers'])
        expect(crds).toContain(`${kind}.peering.autopeer.dev`);
      // Wave -1: the chart. Synced, and Progressing only because of its Deployment, whose pods no kubelet runs
      // here: kube-controller-manager has rolled it out (ReplicaSet, Pods), and the Pods stay Pending. Argo CD 3
      // keeps each resource's health out of the Application's status, so the cause is in its health message.
      const chart = await until(
        'the chart Synced, waiting for its Pods only',
        async () => {
          const state = await app('peering-operator');
          const deployment = await getObject<{
            metadata: { generation: number };
            status?: { observedGeneration?: number; replicas?: number; unavailableReplicas?: number };
          }>(plane(), 'deployment', NAMESPACE, CHART_SERVICE_ACCOUNT);
          return (
            state.sync === 'Synced' &&
            state.health === 'Progressing' &&
            deployment?.status?.observedGeneration === deployment?.metadata.generation &&
            deployment?.status?.unavailableReplicas === deployment?.status?.replicas &&
            state
          );
        },
        120_000,
      );
      expect(chart.message).toBe(`Caused by apps/Deployment:${NAMESPACE}/${CHART_SERVICE_ACCOUNT}`);
      expect(chart.resources?.map((r) => `${r.kind}/${r.status}`)).toEqual(
        expect.arrayContaining([
          'ServiceAccount/Synced',
          'Role/Synced',
          'RoleBinding/Synced',
          'ConfigMap/Synced',
          'Service/Synced',
          'Deployment/Synced',
          'PodDisruptionBudget/Synced',
          'MutatingAdmissionPolicy/Synced',
        ]),
      );
      const pods = await listObjects<{ status?: { phase?: string } }>(plane(), 'pods', NAMESPACE);
      expect(pods.length).toBeGreaterThan(0);
      expect(pods.map((p) => p.status?.phase)).toEqual(pods.map(() => 'Pending'));
      // Wave 0: the peers, one Application per folder. Before any operator runs, a request waits: Progressing.
      await until('the peers Synced', synced('peer-as64501'), 120_000);
      expect((await app('peer-as64501')).health).toBe('Progressing');
      await until('AS64503’s approval Synced and Healthy', healthy('peer-as64503'));

      // The operators start: AS64500's as the chart's ServiceAccount, AS64501's (manual approval) next to it.
      lab = await startTwoNetworks({
        workDir: join(work, 'lab'),
        examplesDir: EXAMPLES_DIR,
        ports,
        receiverApproval: 'manual',
        // examples/gitops's peers present the bearer token a peer issued them (their README's path).
        peerAuth: 'bearer',
        operators: kubeLabBacking(plane, {
          installed: (asn) =>
            asn === AS64500.asn ? { namespace: NAMESPACE, serviceAccount: CHART_SERVICE_ACCOUNT } : undefined,
        }),
      });
      // The token AS64501 issued to us, created out of band as the example says.
      await kubectlApply(plane(), [
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'peering-as64501', namespace: NAMESPACE },
          stringData: { token: await lab.a.token(lab.b.apiUrl) },
        },
      ]);
      // AS64501 decides by hand: the session waits there (PendingApproval), ours says Requested, and our
      // Application says Progressing, not Degraded.
      await until(
        'pending at AS64501',
        async () => {
          const inbound = await listObjects<{ status?: { phase?: string } }>(
            plane(),
            'peeringrequests',
            lab?.b.backing?.namespace as string,
          );
          return (
            inbound[0]?.status?.phase === 'PendingApproval' &&
            (await requestPhase(NAMESPACE, 'as64501')) === 'Requested'
          );
        },
        90_000,
      );
      expect((await app('peer-as64501')).health).toBe('Progressing');
      console.log(
        `[argocd] empty → CRDs, chart, peers synced, waiting for approval: ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    }, 420_000);

    it('an approval committed to the peer’s repository ends Established on both BIRDs: Healthy', async () => {
      const running = lab as TwoNetworks;
      const inboundNamespace = running.b.backing?.namespace as string;
      // AS64501's Applications, as the example makes them, in its namespace and from its repository.
      const set = parse(readFileSync(join(GITOPS, 'apps/peers.yaml'), 'utf8')) as ApplicationSetDoc;
      set.metadata.name = 'peering-peers-as64501';
      set.spec.template.metadata.name = 'as64501-peer-{{ .path.basename }}';
      for (const generator of set.spec.generators) {
        generator.git.repoURL = peerGitops.url;
        // What a push webhook would do: look at the repository again soon, not in three minutes.
        generator.git.requeueAfterSeconds = 5;
      }
      set.spec.template.spec.source.repoURL = peerGitops.url;
      set.spec.template.spec.destination.namespace = inboundNamespace;
      writeFileSync(join(work, 'peers-as64501.yaml'), stringify(set));
      await plane().kubectl(['apply', '-f', join(work, 'peers-as64501.yaml')]);

      const started = performance.now();
      peerGitops.commit('approve AS64500 at the Loopback IX', (dir) => {
        mkdirSync(join(dir, 'peers/as64500'), { recursive: true });
        writeFileSync(
          join(dir, 'peers/as64500/approval.yaml'),
          stringify({
            apiVersion: 'peering.autopeer.dev/v1alpha1',
            kind: 'PeeringApproval',
            metadata: { name: 'as64500' },
            spec: {
              peerAsn: AS64500.asn,
              sessions: [{ location: DEMO_LOCATION, localIp: AS64501.address, peerIp: AS64500.address }],
            },
          }),
        );
      });
      await argo.refreshSet('peering-peers-as64501');
      await until('the approval Synced', healthy('as64501-peer-as64500'), 90_000);
      await until(
        'Established on both BIRDs',
        async () => {
          const [a, b] = await bgpStates();
          return a?.[0] === 'Established' && b?.[0] === 'Established';
        },
        90_000,
      );
      await until(
        'AS64500’s request Established',
        async () => (await requestPhase(NAMESPACE, 'as64501')) === 'Established',
      );
      await until('AS64500’s peer Synced and Healthy', healthy('peer-as64501'));
      console.log(
        `[argocd] approval commit → BGP established, Healthy: ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      const approval = await getObject<{ status?: { approved?: string[] } }>(
        plane(),
        'peeringapproval',
        inboundNamespace,
        'as64500',
      );
      expect(approval?.status?.approved).toHaveLength(1);
    }, 240_000);

    it('says Degraded within 30 s when BGP goes down on the peer’s BIRD, and Healthy again when it is back', async () => {
      const peerBird = (lab as TwoNetworks).b.bird;
      const [protocol] = await peeringProtocols(peerBird);
      const started = performance.now();
      await peerBird.birdc(`disable ${protocol?.name as string}`);
      const degraded = await until('Degraded', async () => {
        const state = await app('peer-as64501');
        return state.health === 'Degraded' && state;
      });
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `[argocd] BGP down on AS64501's BIRD → AS64500's Application Degraded: ${seconds.toFixed(1)} s`,
      );
      expect(seconds).toBeLessThanOrEqual(30);
      // Argo CD names the resource; the reason is the request's own, which its health script reads.
      expect(degraded.message).toBe(`Caused by peering.autopeer.dev/PeeringRequest:${NAMESPACE}/as64501`);
      const request = await getObject<{ status?: { conditions?: { type: string; reason?: string }[] } }>(
        plane(),
        'peeringrequest',
        NAMESPACE,
        'as64501',
      );
      expect(request?.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('BgpDown');
      await peerBird.birdc(`enable ${protocol?.name as string}`);
      await until('Healthy again', healthy('peer-as64501'), 60_000);
    }, 120_000);

    it('fails only its own peer’s sync on a bad file, with the API server’s message; the other peers keep syncing', async () => {
      gitops.commit('AS64503: an approval without its peer; AS64501: a label on the request', (dir) => {
        writeFileSync(
          join(dir, 'peers/as64503/broken.yaml'),
          stringify({
            apiVersion: 'peering.autopeer.dev/v1alpha1',
            kind: 'PeeringApproval',
            metadata: { name: 'as64503-broken' },
            spec: { sessions: [{ location: 'pdb:ix:1', localIp: '192.0.2.1', peerIp: '192.0.2.3' }] },
          }),
        );
        editYaml<{ metadata: { labels?: Record<string, string> } }>(
          join(dir, 'peers/as64501/peeringrequest.yaml'),
          (request) => {
            request.metadata.labels = { 'example.net/team': 'peering' };
          },
        );
      });
      const commit = gitops.head();
      await argo.refresh('peer-as64503');
      await argo.refresh('peer-as64501');
      // Argo CD retries a failed automated sync (with backoff); its message is the API server's refusal.
      const failed = await until('AS64503 failed', async () => {
        const state = await app('peer-as64503');
        return state.revision === commit && /unsuccessfully/.test(state.operationMessage ?? '') && state;
      });
      expect(failed.sync).toBe('OutOfSync');
      expect(failed.operationMessage).toMatch(
        /PeeringApproval\.peering\.autopeer\.dev "as64503-broken" is invalid: .*spec\.peerAsn: Required value/,
      );
      // AS64501's Application took the same commit: Synced and Healthy, the label on the request.
      await until('AS64501 synced to the same commit', async () => {
        const state = await app('peer-as64501');
        return state.revision === commit && state.sync === 'Synced' && state.health === 'Healthy';
      });
      const request = await getObject<{ metadata: { labels?: Record<string, string> } }>(
        plane(),
        'peeringrequest',
        NAMESPACE,
        'as64501',
      );
      expect(request?.metadata.labels).toMatchObject({ 'example.net/team': 'peering' });
    }, 120_000);

    it('de-peers on both sides and on both BIRDs when a commit deletes the peer’s folder (automated prune)', async () => {
      const running = lab as TwoNetworks;
      gitops.commit('de-peer AS64501', (dir) => rmSync(join(dir, 'peers/as64501'), { recursive: true }));
      await argo.refreshSet('peering-peers');
      await until(
        'the request gone at AS64500',
        async () => (await getObject(plane(), 'peeringrequest', NAMESPACE, 'as64501')) === undefined,
        90_000,
      );
      // The finalizer sent DELETE /sessions/{id}: AS64501's side went too, and neither BIRD runs the session.
      await until('no session left at AS64501', async () => {
        const sessions = await listObjects(
          plane(),
          'peeringsessions',
          running.b.backing?.namespace as string,
        );
        return sessions.length === 0;
      });
      await until('no BGP session on either BIRD', async () => {
        const [a, b] = await bgpStates();
        return a?.length === 0 && b?.length === 0;
      });
    }, 120_000);
  },
);
