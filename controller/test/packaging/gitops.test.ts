import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import { PeeringApprovalSpecSchema } from '../../src/operator/resources/peering-approval.js';
import { PeeringRequestSpecSchema } from '../../src/operator/resources/peering-request.js';
import { REPO_ROOT } from '../support/sample.js';
import { describeWithHelm, renderChart, type RenderedObject } from './helm.js';

const GITOPS = join(REPO_ROOT, 'examples/gitops');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

function objectsIn(path: string): RenderedObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as RenderedObject);
}

interface Application {
  metadata: { name: string; annotations?: Record<string, string>; finalizers?: string[] };
  spec: {
    source?: {
      path: string;
      repoURL: string;
      directory?: { recurse?: boolean };
      helm?: { skipCrds?: boolean; valueFiles?: string[] };
    };
    sources?: {
      path?: string;
      ref?: string;
      repoURL: string;
      helm?: { skipCrds?: boolean; valueFiles?: string[] };
    }[];
    destination: { namespace?: string };
    syncPolicy?: { automated?: { prune?: boolean }; syncOptions?: string[] };
  };
}

const apps = yamlFiles(join(GITOPS, 'apps'))
  .flatMap(objectsIn)
  .map((o) => o as unknown as Application & { kind: string });
const app = (name: string): Application => {
  const found = apps.find((a) => a.metadata.name === name);
  if (found === undefined) throw new Error(`examples/gitops/apps has no Application ${name}`);
  return found;
};
const wave = (a: Application): number =>
  Number(a.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);

/** One folder per peer network, each holding PeeringRequests (outbound) or approvals (inbound). */
const peerFolders = readdirSync(join(GITOPS, 'peers'));
const peerManifests = peerFolders.flatMap((folder) =>
  yamlFiles(join(GITOPS, 'peers', folder)).map((file) => ({
    folder,
    file: relative(GITOPS, file),
    objects: objectsIn(file),
  })),
);
const isApproval = (o: RenderedObject): boolean => o.kind === 'PeeringApproval';

describe('GitOps example', () => {
  it('syncs the CRDs first, then the operator, then the peers', () => {
    expect(apps.map((a) => a.kind)).toEqual(
      expect.arrayContaining(['Application', 'Application', 'ApplicationSet']),
    );
    const order = [...apps].sort((a, b) => wave(a) - wave(b)).map((a) => a.metadata.name);
    expect(order).toEqual(['peering-crds', 'peering-operator', 'peering-peers']);
    expect(new Set(apps.map(wave)).size).toBe(apps.length);
    const root = objectsIn(join(GITOPS, 'argocd/root-app.yaml'))[0] as unknown as Application;
    expect(root.spec.source?.path).toBe('apps');
  });

  it('never deletes CRDs or sessions by deleting an Application', () => {
    const crds = app('peering-crds');
    expect(crds.spec.source?.path).toBe('crds');
    expect(crds.metadata.finalizers).toBeUndefined();
    expect(crds.spec.syncPolicy?.automated?.prune).toBe(false);
    // The peers' ApplicationSet: deleting it keeps every request; deleting one peer's folder de-peers that peer.
    const peers = app('peering-peers') as unknown as {
      kind: string;
      metadata: { finalizers?: string[] };
      spec: {
        syncPolicy?: { preserveResourcesOnDeletion?: boolean };
        template: { metadata: { finalizers?: string[] }; spec: Application['spec'] };
        generators: { git?: { directories: { path: string }[] } }[];
      };
    };
    expect(peers.kind).toBe('ApplicationSet');
    expect(peers.metadata.finalizers).toBeUndefined();
    expect(peers.spec.syncPolicy?.preserveResourcesOnDeletion).toBe(true);
    expect(peers.spec.generators[0]?.git?.directories).toEqual([{ path: 'peers/*' }]);
    expect(peers.spec.template.metadata.finalizers).toEqual([
      'resources-finalizer.argocd.argoproj.io/background',
    ]);
    expect(peers.spec.template.spec.syncPolicy?.automated?.prune).toBe(true);
    // The chart's own CRDs are skipped: wave -2 owns them.
    const chart = app('peering-operator').spec.sources?.find((s) => s.path === 'charts/peering-operator');
    expect(chart?.helm?.skipCrds).toBe(true);
  });

  it('has one folder per peer, named after its ASN, holding only that peer', () => {
    expect(peerFolders.length).toBeGreaterThanOrEqual(3);
    for (const { folder, file, objects } of peerManifests) {
      for (const object of objects) {
        expect({ file, kind: object.kind }).toEqual({
          file,
          kind: isApproval(object) ? 'PeeringApproval' : 'PeeringRequest',
        });
        // Namespaces come from the Application's destination, so a copied folder works in any namespace.
        expect({ file, namespace: object.metadata.namespace }).toEqual({ file, namespace: undefined });
        const spec = object.spec as { peerAsn?: number };
        expect(`as${spec.peerAsn}`).toBe(folder);
        const parsed = (isApproval(object) ? PeeringApprovalSpecSchema : PeeringRequestSpecSchema).safeParse(
          object.spec,
        );
        if (!parsed.success) throw new Error(`${file}: ${parsed.error.message}`);
      }
    }
    expect(peerManifests.some((m) => m.objects.some(isApproval))).toBe(true);
  });
});

describeWithHelm('GitOps example on a real API server', (helm) => {
  describeWithControlPlane('peers and operator values', (plane) => {
    let namespace: string;
    let work: string;
    beforeAll(async () => {
      await plane().installCRDs([join(REPO_ROOT, 'crds')]);
      namespace = await plane().newNamespace('gitops');
      work = await mkdtemp(join(tmpdir(), 'peering-gitops-'));
    });
    afterAll(async () => {
      if (work) await rm(work, { recursive: true, force: true });
    });

    async function apply(objects: readonly unknown[], file: string, args: string[]): Promise<string> {
      const path = join(work, file);
      await writeFile(path, objects.map((o) => `---\n${stringify(o)}`).join(''));
      const { stdout } = await plane().kubectl(['apply', '-n', namespace, ...args, '-f', path]);
      return stdout;
    }

    it("accepts every peer's PeeringRequest (schema and CEL rules of the real CRDs)", async () => {
      const outbound = peerManifests.flatMap((m) => m.objects.filter((o) => !isApproval(o)));
      expect(outbound.length).toBeGreaterThanOrEqual(2);
      const out = await apply(outbound, 'peers.yaml', ['--dry-run=server']);
      expect(out.trim().split('\n')).toHaveLength(outbound.length);
      expect(out).not.toMatch(/error/i);
    });

    it('renders the operator from operator/values.yaml into objects the server accepts', async () => {
      const values = parse(readFileSync(join(GITOPS, 'operator/values.yaml'), 'utf8')) as Record<
        string,
        unknown
      >;
      // As given: the file must say everything an install requires (the chart has no ASNs, URL or router).
      const { objects } = await renderChart(helm(), values, { namespace, release: 'peering', asGiven: true });
      // The ServiceMonitor kind is not installed here (chart-dry-run.test.ts covers it with a stand-in CRD).
      const served = objects.filter((o) => o.kind !== 'ServiceMonitor');
      const out = await apply(served, 'operator.yaml', ['--dry-run=server']);
      expect(out.trim().split('\n')).toHaveLength(served.length);
    });

    it('syncs the approval file whether or not the peer has asked yet, and a spec.approved patch meets no conflict', async () => {
      const approval = peerManifests.flatMap((m) => m.objects.filter(isApproval))[0] as RenderedObject;
      // Valid on its own: nothing needs to exist first, so it cannot fail the sync of the other peers.
      const out = await apply([approval], 'approval.yaml', [
        '--server-side',
        '--field-manager=argocd-controller',
      ]);
      expect(out).toMatch(/peeringapproval.peering.autopeer.dev\/as64503 serverside-applied/);

      // What our Peering API server writes when AS64503 asks (its own field manager; no spec.approved).
      const inbound = {
        apiVersion: 'peering.autopeer.dev/v1alpha1',
        kind: 'PeeringRequest',
        metadata: { name: 'in-as64503-3f1c9a52-7e0b-4c1e-9b7a-2d4f6e8a1b90' },
        spec: {
          direction: 'Inbound',
          localAsn: 64500,
          peerAsn: 64503,
          sessions: [
            {
              location: 'pdb:ix:1',
              localIp: '192.0.2.1',
              peerIp: '192.0.2.3',
              sessionId: '8c1d7f0e-5b7a-4f2e-9d3c-6a1b2c3d4e5f',
              initialState: 'pending',
            },
          ],
          inbound: {
            requestId: '3f1c9a52-7e0b-4c1e-9b7a-2d4f6e8a1b90',
            requestedBy: 'noc@as64503.example.net',
            receivedAt: '2026-11-27T10:00:00Z',
            rejections: [],
          },
        },
      };
      await apply([inbound], 'inbound.yaml', ['--server-side', '--field-manager=peering-api']);
      // The older way, spec.approved on the request itself, applies without force too (no default owns it).
      const patch = { ...inbound, spec: { approved: true } };
      await apply([patch], 'approved.yaml', ['--server-side', '--field-manager=argocd-controller']);
      const { stdout } = await plane().kubectl([
        'get',
        'peeringrequest',
        inbound.metadata.name,
        '-n',
        namespace,
        '-o',
        'json',
      ]);
      const live = JSON.parse(stdout) as {
        spec: { approved: boolean; sessions: unknown[]; inbound: { requestId: string } };
      };
      expect(live.spec.approved).toBe(true);
      expect(live.spec.inbound.requestId).toBe('3f1c9a52-7e0b-4c1e-9b7a-2d4f6e8a1b90');
    });
  });
});
