import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import type { RequestDescription, SessionDescription } from '../../src/cli/peeringctl/describe-render.js';
import { KubeClient } from '../../src/operator/backing/kube/client.js';
import { KubeResourceCollection } from '../../src/operator/backing/kube/collection.js';
import { KubeEventRecorder } from '../../src/operator/backing/kube/events.js';
import { LABEL, PEERING_REQUEST, PEERING_SESSION } from '../../src/operator/resources/api-group.js';
import { controllerReference } from '../../src/operator/resources/object.js';
import type { PeeringRequest } from '../../src/operator/resources/peering-request.js';
import type { PeeringSession } from '../../src/operator/resources/peering-session.js';
import { goodRequest, goodSession } from '../operator/fixtures/manifests.js';
import { CRDS_DIR, eventually, kubectlApply } from '../operator/support/cluster.js';
import { expectExit, peeringctl, requireBuild } from './run-peeringctl.js';

// The real peeringctl process against a real kube-apiserver: the request goes in with kubectl, its status, its
// sessions and their Events are written the way the operator writes them (its own collection and recorder).

describeWithControlPlane('peeringctl describe against a real API server', (plane) => {
  let namespace: string;
  let kube: KubeClient;
  let work: string;
  let kubeconfig: string;
  const at = new Date(Date.now() - 5 * 60_000).toISOString();
  let withoutCrds: Awaited<ReturnType<typeof peeringctl>> | undefined;

  beforeAll(async () => {
    requireBuild();
    if (plane().kind === 'local') {
      // A fresh API server knows nothing of our kinds yet: what does describe say there?
      withoutCrds = await peeringctl([
        'describe',
        'preq',
        'x',
        '-n',
        'default',
        '--kubeconfig',
        plane().kubeconfigPath,
      ]);
    }
    await plane().installCRDs(CRDS_DIR);
    namespace = await plane().newNamespace('describe');
    work = mkdtempSync(join(tmpdir(), 'peeringctl-describe-'));
    kubeconfig = plane().kubeconfigPath;
    kube = await KubeClient.connect(plane().kubeConfig);
    const requests = new KubeResourceCollection<PeeringRequest>(kube, PEERING_REQUEST);
    const sessions = new KubeResourceCollection<PeeringSession>(kube, PEERING_SESSION);

    await kubectlApply(plane(), [goodRequest(namespace, 'as64501'), goodRequest(namespace, 'as64502')]);
    const request = (await requests.get(namespace, 'as64501'))!;
    const withStatus = await requests.updateStatus({
      ...request,
      status: {
        phase: 'PartiallyRejected',
        requestId: '2b7c1a52-9a3e-4a35-8d3f-2f4f7f0e1c11',
        sessionCounts: { accepted: 1, rejected: 1, established: 0 },
        rejected: [
          {
            location: 'pdb:ix:1',
            localIp: '2001:db8::1',
            peerIp: '2001:db8::2',
            field: 'peer_ip',
            code: 'PEER_IP_NOT_REGISTERED',
            reason: 'PeerIpNotRegistered',
            message: "peer_ip is not one of the caller's addresses at this location in PeeringDB.",
          },
        ],
        conditions: [
          condition('Accepted', 'True', 'PartiallyAccepted', '1 session(s) accepted, 1 rejected'),
          condition('Ready', 'False', 'BgpActive', '0 of 1 session(s) ready; as64501-ix1 is not (BgpActive)'),
        ],
        observedGeneration: 1,
      },
    });

    const session = goodSession(namespace, 'as64501-ix1') as unknown as PeeringSession;
    const created = await sessions.create({
      ...session,
      metadata: {
        ...session.metadata,
        labels: { [LABEL.request]: 'as64501', [LABEL.direction]: 'outbound' },
        ownerReferences: [controllerReference(withStatus)],
      },
    });
    const sessionWithStatus = await sessions.updateStatus({
      ...created,
      status: {
        state: 'configured',
        bgp: { state: 'active', since: at, lastError: 'Connection refused' },
        router: { name: 'edge1' },
        conditions: [
          condition('Accepted', 'True', 'Approved', 'the session is configured'),
          condition('Configured', 'True', 'Configured', 'configured on our router'),
          condition('Established', 'False', 'BgpActive', 'BGP is active: Connection refused'),
          condition('Ready', 'False', 'BgpActive', 'BGP is active: Connection refused'),
        ],
        observedGeneration: 1,
      },
    });
    // A session of the other request: not listed under as64501.
    const other = goodSession(namespace, 'as64502-ix1') as unknown as PeeringSession;
    await sessions.create({
      ...other,
      metadata: { ...other.metadata, labels: { [LABEL.request]: 'as64502' } },
    });

    const recorder = new KubeEventRecorder(kube);
    recorder.record(withStatus, 'Normal', 'Requested', 'asked AS64501 for 2 session(s)');
    recorder.record(sessionWithStatus, 'Warning', 'BgpActive', 'Established is False: BGP is active');
    await eventually(
      async () => {
        const list = await kube.request<{ items: unknown[] }>(
          'GET',
          `/api/v1/namespaces/${namespace}/events`,
        );
        return list.items.length >= 2;
      },
      20_000,
      'the two Events',
    );
  });
  afterAll(async () => {
    await kube?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function condition(type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string) {
    return { type, status, reason, message, lastTransitionTime: at, observedGeneration: 1 };
  }

  /** The admin kubeconfig with a namespace in its context, as `kubectl config set-context --namespace` leaves it. */
  function kubeconfigWithNamespace(ns: string): string {
    const config = parseYaml(readFileSync(kubeconfig, 'utf8')) as {
      contexts: { context: Record<string, unknown> }[];
    };
    for (const c of config.contexts) c.context['namespace'] = ns;
    const path = join(work, `kubeconfig-${ns}`);
    writeFileSync(path, stringify(config), { mode: 0o600 });
    return path;
  }

  it('prints the request, its session, their conditions and Events on one screen, without colour', async () => {
    const run = await peeringctl([
      'describe',
      'peeringrequest',
      'as64501',
      '-n',
      namespace,
      '--kubeconfig',
      kubeconfig,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'Name:        as64501',
        `Namespace:   ${namespace}`,
        'Direction:   Outbound',
        'Peer ASN:    64501',
        'Peer API:    http://127.0.0.1:8080/v0.1',
        'Phase:       PartiallyRejected',
        'Request ID:  2b7c1a52-9a3e-4a35-8d3f-2f4f7f0e1c11',
        'Generation:  1, observed 1',
        'Sessions (1):',
        'Session conditions not True:',
      ]),
    );
    expect(run.stdout).toMatch(/^ {2}Ready +False +BgpActive +5m\d*s? +0 of 1 session\(s\) ready/m);
    expect(run.stdout).toMatch(/^ {2}pdb:ix:1 +2001:db8::1 +2001:db8::2 +peer_ip +PEER_IP_NOT_REGISTERED /m);
    expect(run.stdout).toMatch(
      /^ {2}as64501-ix1 +pdb:ix:1 +192\.0\.2\.1 +192\.0\.2\.2 +configured +active +edge1 +False +BgpActive$/m,
    );
    expect(run.stdout).toMatch(/^ {2}as64501-ix1 +Established +False +BgpActive +\S+ +BGP is active/m);
    expect(run.stdout).toMatch(/^ {2}\d+s +Normal +Requested +PeeringRequest\/as64501 +asked AS64501/m);
    expect(run.stdout).toMatch(
      /^ {2}\d+s +Warning +BgpActive +PeeringSession\/as64501-ix1 +Established is False/m,
    );
    // Most recent last, and nothing of the other request.
    expect(run.stdout.indexOf('Requested')).toBeLessThan(run.stdout.lastIndexOf('Established is False'));
    expect(run.stdout).not.toContain('as64502');
    expect(run.stdout).not.toContain('\x1b[');
  });

  it('gives the same data as JSON with -o json', async () => {
    const run = await peeringctl([
      'describe',
      'preq/as64501',
      '-n',
      namespace,
      '--kubeconfig',
      kubeconfig,
      '-o',
      'json',
    ]);
    expect(run.code).toBe(0);
    const d = JSON.parse(run.stdout) as RequestDescription;
    expect(d).toMatchObject({
      kind: 'PeeringRequest',
      name: 'as64501',
      namespace,
      phase: 'PartiallyRejected',
    });
    expect(d.sessions.map((s) => [s.name, s.state, s.bgpState, s.router, s.ready?.reason])).toEqual([
      ['as64501-ix1', 'configured', 'active', 'edge1', 'BgpActive'],
    ]);
    expect(d.rejected.map((r) => r.code)).toEqual(['PEER_IP_NOT_REGISTERED']);
    expect(d.events.map((e) => [e.object, e.reason])).toEqual([
      ['PeeringRequest/as64501', 'Requested'],
      ['PeeringSession/as64501-ix1', 'BgpActive'],
    ]);
    expect(d.conditions.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe(at);
  });

  it('describes a session by its short name', async () => {
    const run = await peeringctl([
      'describe',
      'psess',
      'as64501-ix1',
      '-n',
      namespace,
      '--kubeconfig',
      kubeconfig,
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Request:     as64501\n');
    expect(run.stdout).toContain('BGP:         active, since 5m');
    expect(run.stdout).toMatch(/^ {2}\d+s +Warning +BgpActive +PeeringSession\/as64501-ix1 /m);
    expect(run.stdout).not.toContain('PeeringRequest/as64501');
    const json = await peeringctl([
      'describe',
      'psess',
      'as64501-ix1',
      '-n',
      namespace,
      '--kubeconfig',
      kubeconfig,
      '-o',
      'yaml',
    ]);
    expect(parseYaml(json.stdout)).toMatchObject({
      kind: 'PeeringSession',
      request: 'as64501',
      state: 'configured',
    });
    expect((parseYaml(json.stdout) as SessionDescription).sessionId).toBe(
      '0d9c2b4e-6f11-4c55-9d39-1c1f1b0c8a11',
    );
  });

  it('takes the cluster from KUBECONFIG and the namespace from its context, as kubectl does', async () => {
    const [inContext, inDefault] = await Promise.all([
      peeringctl(['describe', 'preq', 'as64501'], {
        env: { KUBECONFIG: kubeconfigWithNamespace(namespace) },
      }),
      peeringctl(['describe', 'preq', 'as64501'], { env: { KUBECONFIG: kubeconfig, HOME: work } }),
    ]);
    expect(inContext.code).toBe(0);
    expect(inContext.stdout).toContain('Phase:       PartiallyRejected');
    expectExit(inDefault, 6, 'peeringrequest "as64501" not found in namespace "default"');
  });

  it('finds the Events of a request with many sessions through one namespace listing', async () => {
    await kubectlApply(plane(), [goodRequest(namespace, 'as64503')]);
    const request = (await new KubeResourceCollection<PeeringRequest>(kube, PEERING_REQUEST).get(
      namespace,
      'as64503',
    ))!;
    const sessions = new KubeResourceCollection<PeeringSession>(kube, PEERING_SESSION);
    const template = goodSession(namespace, 'unused') as unknown as PeeringSession;
    const created = await Promise.all(
      Array.from({ length: 17 }, (_, i) =>
        sessions.create({
          ...template,
          metadata: {
            name: `as64503-s${String(i).padStart(2, '0')}`,
            namespace,
            labels: { [LABEL.request]: 'as64503' },
            ownerReferences: [controllerReference(request)],
          },
        }),
      ),
    );
    const recorder = new KubeEventRecorder(kube);
    recorder.record(created[16]!, 'Warning', 'BgpIdle', 'the seventeenth session');
    recorder.record(request, 'Normal', 'Requested', 'asked for 17 session(s)');
    const d = await eventually(async () => {
      const run = await peeringctl([
        'describe',
        'preq',
        'as64503',
        '-n',
        namespace,
        '--kubeconfig',
        kubeconfig,
        '-o',
        'json',
      ]);
      const parsed = JSON.parse(run.stdout) as RequestDescription;
      return parsed.events.length === 2 ? parsed : undefined;
    });
    expect(d.sessions).toHaveLength(17);
    expect(d.events.map((e) => e.object).sort()).toEqual([
      'PeeringRequest/as64503',
      'PeeringSession/as64503-s16',
    ]);
  });

  it('exits 6 naming the resource and the namespace when there is no such object', async () => {
    const [request, session] = await Promise.all([
      peeringctl(['describe', 'preq', 'nope', '-n', namespace, '--kubeconfig', kubeconfig]),
      peeringctl(['describe', 'peeringsessions', 'nope', '-n', namespace, '--kubeconfig', kubeconfig]),
    ]);
    expectExit(request, 6, `peeringctl: peeringrequest "nope" not found in namespace "${namespace}"`);
    expectExit(session, 6, `peeringsession "nope" not found in namespace "${namespace}"`);
    expect(request.stdout).toBe('');
  });

  it('exits 5 when RBAC refuses, and describes without Events when only those are refused', async () => {
    const readerKubeconfig = async (name: string) => {
      const path = join(work, `kubeconfig-${name}`);
      writeFileSync(path, (await plane().serviceAccountKubeConfig(namespace, name)).exportConfig(), {
        mode: 0o600,
      });
      return path;
    };
    await kubectlApply(plane(), [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'peering-reader', namespace },
        rules: [
          {
            apiGroups: ['peering.autopeer.dev'],
            resources: ['peeringrequests', 'peeringsessions'],
            verbs: ['get', 'list'],
          },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'peering-reader', namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'peering-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
      },
    ]);
    const [nobody, reader] = await Promise.all([readerKubeconfig('nobody'), readerKubeconfig('reader')]);
    const refused = await peeringctl([
      'describe',
      'preq',
      'as64501',
      '-n',
      namespace,
      '--kubeconfig',
      nobody,
    ]);
    expectExit(refused, 5, `not allowed in namespace ${namespace}`);
    const withoutEvents = await eventually(async () => {
      // RBAC takes effect a moment after the RoleBinding is written.
      const run = await peeringctl(['describe', 'preq', 'as64501', '-n', namespace, '--kubeconfig', reader]);
      return run.code === 0 ? run : undefined;
    });
    expect(withoutEvents.stdout).toContain('Sessions (1):');
    expect(withoutEvents.stdout).toContain('Events: (not readable)');
    expect(withoutEvents.stdout).toContain(`needs list events in namespace ${namespace}`);
  });

  it('says so when the cluster does not serve the CRDs', () => {
    if (withoutCrds === undefined) return; // an existing cluster may have them installed already
    expectExit(withoutCrds, 6, 'serves no peeringrequests.peering.autopeer.dev');
    expect(withoutCrds.stderr).toContain('are the CRDs installed?');
  });
});

describe('peeringctl describe without a cluster', () => {
  beforeAll(() => requireBuild());

  it('has --help with examples, and is listed by peeringctl --help', async () => {
    const [root, help] = await Promise.all([peeringctl(['--help']), peeringctl(['describe', '--help'])]);
    expect(root.stdout).toContain('describe');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('peeringctl describe peeringrequest');
  });

  it('exits 2 for an unknown kind, a missing name or no cluster to read, 3 for an unreadable kubeconfig', async () => {
    const [kind, name, cluster, kubeconfig] = await Promise.all([
      peeringctl(['describe', 'pods', 'x', '--kubeconfig', '/dev/null']),
      peeringctl(['describe', 'preq', '--kubeconfig', '/dev/null']),
      peeringctl(['describe', 'preq', 'x'], { env: { HOME: '/nonexistent' } }),
      peeringctl(['describe', 'preq', 'x', '--kubeconfig', '/nonexistent/kubeconfig']),
    ]);
    expectExit(kind, 2, 'cannot describe "pods": give peeringrequest (preq) or peeringsession (psess)');
    expectExit(name, 2, 'which peeringrequest? give its name');
    expectExit(cluster, 2, 'no cluster to read from: give --kubeconfig <file>, set KUBECONFIG');
    expectExit(kubeconfig, 3, 'cannot read kubeconfig /nonexistent/kubeconfig');
  });
});
