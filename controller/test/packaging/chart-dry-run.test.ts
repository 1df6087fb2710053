import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import { REQUEST_FINALIZER, SESSION_FINALIZER } from '../../src/operator/resources/api-group.js';
import { CRDS_DIR, eventually } from '../operator/support/cluster.js';
import { goodRequest, goodSession } from '../operator/fixtures/manifests.js';
import { REPO_ROOT } from '../support/sample.js';
import { MUTATING_ADMISSION_POLICY, describeWithHelm, renderChart, type RenderedObject } from './helm.js';
import { ALL_ON, ROUTER_AGENTS } from './value-sets.js';

/**
 * The Prometheus Operator's CRD is not ours to ship, and a real API server refuses a ServiceMonitor whose kind it
 * does not know. This stand-in makes the kind known (group, version, names and scope as upstream has them) with an
 * open schema: the dry run then checks the object's apiVersion, kind, metadata and namespace, not the
 * ServiceMonitor's own fields (the chart test checks those: port `http`, path `/metrics`).
 */
const SERVICE_MONITOR_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'servicemonitors.monitoring.coreos.com' },
  spec: {
    group: 'monitoring.coreos.com',
    names: {
      kind: 'ServiceMonitor',
      listKind: 'ServiceMonitorList',
      plural: 'servicemonitors',
      singular: 'servicemonitor',
    },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        },
      },
    ],
  },
};

describeWithHelm('Helm chart on a real API server', (helm) => {
  describeWithControlPlane('server-side dry run', (plane) => {
    let namespace: string;
    let work: string;

    beforeAll(async () => {
      // Only the stand-in: the chart's own CRDs are dry-run below as the chart ships them, on a server without them.
      await plane().installCRDs([SERVICE_MONITOR_CRD]);
      namespace = await plane().newNamespace('chart');
      work = await mkdtemp(join(tmpdir(), 'peering-chart-'));
    });
    afterAll(async () => {
      if (work) await rm(work, { recursive: true, force: true });
    });

    /** `kubectl apply --dry-run=server` of the objects; resolves to kubectl's "… created (server dry run)" lines. */
    async function dryRun(objects: readonly RenderedObject[], file: string): Promise<string[]> {
      const path = join(work, file);
      await writeFile(path, objects.map((o) => `---\n${stringify(o)}`).join(''));
      const { stdout } = await plane().kubectl(['apply', '--dry-run=server', '-f', path]);
      return stdout.trim().split('\n');
    }

    const expectAllAccepted = (lines: string[], objects: readonly RenderedObject[]): void => {
      expect(lines).toHaveLength(objects.length);
      for (const line of lines) expect(line).toMatch(/ (created|configured|unchanged) \(server dry run\)$/);
    };

    it('accepts every object of the default rendering', async () => {
      const { objects } = await renderChart(helm(), {}, { namespace });
      expectAllAccepted(await dryRun(objects, 'defaults.yaml'), objects);
    });

    it('accepts every object with Ingress, ServiceMonitor, NetworkPolicy, finalizer policy and cluster-wide RBAC on', async () => {
      const { objects } = await renderChart(helm(), ALL_ON, { namespace });
      expect(objects.map((o) => o.kind)).toEqual(
        expect.arrayContaining([
          'Ingress',
          'ServiceMonitor',
          'NetworkPolicy',
          'ClusterRole',
          'ClusterRoleBinding',
          'MutatingAdmissionPolicy',
          'MutatingAdmissionPolicyBinding',
        ]),
      );
      expectAllAccepted(await dryRun(objects, 'all-on.yaml'), objects);
    });

    it("accepts the chart's CRDs on a server that does not have them yet", async () => {
      const { objects } = await renderChart(helm(), {}, { namespace, includeCrds: true });
      const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
      expect(crds.length).toBeGreaterThanOrEqual(2);
      const lines = await dryRun(crds, 'crds.yaml');
      expectAllAccepted(lines, crds);
      expect(lines.every((line) => line.endsWith(' created (server dry run)'))).toBe(true);
    });

    it('accepts the Routers and router agents of the agents rendering, once the CRDs are there', async () => {
      await plane().installCRDs(CRDS_DIR);
      const { objects } = await renderChart(helm(), ROUTER_AGENTS, { namespace });
      expect(objects.filter((o) => o.kind === 'Router')).toHaveLength(3);
      expectAllAccepted(await dryRun(objects, 'router-agents.yaml'), objects);
    });

    it('is a check that can fail: the server refuses a broken rendering', async () => {
      const { objects } = await renderChart(helm(), {}, { namespace });
      const broken = objects.map((o) =>
        o.kind === 'Deployment'
          ? { ...o, spec: { ...(o.spec as object), selector: { matchLabels: { other: 'labels' } } } }
          : o,
      );
      await expect(dryRun(broken, 'broken.yaml')).rejects.toThrow(
        /`selector` does not match template `labels`/,
      );
    });
  });

  describeWithControlPlane(
    'the finalizer policy on a real API server',
    (plane) => {
      let namespace: string;
      let elsewhere: string;
      let work: string;
      let policyFile: string;

      beforeAll(async () => {
        namespace = await plane().newNamespace('chart');
        elsewhere = await plane().newNamespace('other');
        work = await mkdtemp(join(tmpdir(), 'peering-chart-'));
        const { objects } = await renderChart(
          helm(),
          {},
          { namespace, apiVersions: [MUTATING_ADMISSION_POLICY] },
        );
        const policy = objects.filter((o) => o.kind.startsWith('MutatingAdmissionPolicy'));
        expect(policy).toHaveLength(2);
        policyFile = join(work, 'policy.yaml');
        await writeFile(policyFile, policy.map((o) => `---\n${stringify(o)}`).join(''));
        await plane().kubectl(['apply', '-f', policyFile]);
      });
      afterAll(async () => {
        if (work) await rm(work, { recursive: true, force: true });
      });

      /** The finalizers the API server gives `object` on creation (a server-side dry run: admission runs, nothing is kept). */
      async function finalizersOnCreate(object: Record<string, unknown>, file: string): Promise<string[]> {
        const path = join(work, file);
        await writeFile(path, stringify(object));
        const { stdout } = await plane().kubectl([
          'create',
          '--dry-run=server',
          '-f',
          path,
          '-o',
          'jsonpath={.metadata.finalizers}',
        ]);
        return stdout === '' ? [] : (JSON.parse(stdout) as string[]);
      }

      it('puts the de-peering finalizers on bare objects of the release namespace, and nowhere else', async () => {
        // The API server loads a new policy within moments; until then creates pass through unchanged.
        await eventually(
          async () =>
            (await finalizersOnCreate(goodSession(namespace, 'bare'), 'session.yaml')).includes(
              SESSION_FINALIZER,
            ),
          20_000,
          'the API server to apply the policy',
        );
        expect(await finalizersOnCreate(goodSession(namespace, 'bare'), 'session.yaml')).toEqual([
          SESSION_FINALIZER,
        ]);
        expect(await finalizersOnCreate(goodRequest(namespace), 'request.yaml')).toEqual([REQUEST_FINALIZER]);
        // One the object names itself is kept, and the policy's is added once.
        const named = goodSession(namespace, 'bare');
        Object.assign(named.metadata as object, { finalizers: ['example.net/keep', SESSION_FINALIZER] });
        expect((await finalizersOnCreate(named, 'named.yaml')).sort()).toEqual(
          ['example.net/keep', SESSION_FINALIZER].sort(),
        );
        expect(await finalizersOnCreate(goodSession(elsewhere, 'bare'), 'elsewhere.yaml')).toEqual([]);
      });
    },
    { crds: join(REPO_ROOT, 'crds') },
  );
});
