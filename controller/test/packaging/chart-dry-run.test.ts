import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import { describeWithHelm, renderChart, type RenderedObject } from './helm.js';
import { ALL_ON } from './value-sets.js';

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

    it('accepts every object with Ingress, ServiceMonitor, NetworkPolicy and cluster-wide RBAC on', async () => {
      const { objects } = await renderChart(helm(), ALL_ON, { namespace });
      expect(objects.map((o) => o.kind)).toEqual(
        expect.arrayContaining([
          'Ingress',
          'ServiceMonitor',
          'NetworkPolicy',
          'ClusterRole',
          'ClusterRoleBinding',
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
});
