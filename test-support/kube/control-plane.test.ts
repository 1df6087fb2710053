import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  makeInformer,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Deployment,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';

import { startControlPlane } from './control-plane.js';
import { buildBinaries, findControlPlaneSource } from './control-plane-source.js';
import { describeWithControlPlane } from './describe-with-control-plane.js';
import { ControlPlaneStartError, ControlPlaneUnavailableError, CrdSourceError } from './errors.js';
import { sleep } from './supervised-process.js';

// A CRD of the harness's own, shaped like ours will be: a structural schema,
// CEL rules (one a transition rule), a status subresource, printer columns.
const group = 'envtest.peering-operator.test';
const version = 'v1alpha1';
const plural = 'widgets';

const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: version,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'ASN', type: 'integer', jsonPath: '.spec.asn' },
          { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
          { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['asn', 'mode'],
                properties: {
                  asn: { type: 'integer', format: 'int64', minimum: 1, maximum: 4294967295 },
                  mode: { type: 'string', enum: ['active', 'passive'] },
                  location: { type: 'string', maxLength: 64 },
                },
                'x-kubernetes-validations': [
                  {
                    rule: "self.mode != 'passive' || has(self.location)",
                    message: 'a passive widget needs a location',
                  },
                  { rule: 'self.asn == oldSelf.asn', message: 'asn is immutable' },
                ],
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

interface Widget extends KubernetesObject {
  spec: { asn: number; mode: 'active' | 'passive'; location?: string };
  status?: { phase?: string };
}

function widget(name: string, spec: Widget['spec']): Widget {
  return { apiVersion: `${group}/${version}`, kind: 'Widget', metadata: { name }, spec };
}

/** The status code of a rejected API call, or a failure if the call was accepted. */
async function rejection(call: Promise<unknown>): Promise<ApiException<unknown>> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiException) return error;
    throw error;
  }
  throw new Error('the API server accepted a request that it should have rejected');
}

describeWithControlPlane('control plane (real etcd + kube-apiserver)', (plane) => {
  let namespace: string;
  let objects: CustomObjectsApi;
  let crdDir: string;

  beforeAll(async () => {
    // Through a directory of YAML, the way later suites install crds/.
    crdDir = await mkdtemp(join(tmpdir(), 'peering-crds-'));
    await writeFile(
      join(crdDir, 'widgets.yaml'),
      `# a comment, then the CRD\n---\n${stringify(widgetCrd)}---\n`,
    );
    await writeFile(join(crdDir, 'README.md'), 'not a CRD, and not read');
    namespace = await plane().newNamespace('smoke');
    objects = plane().kubeConfig.makeApiClient(CustomObjectsApi);
  });
  afterAll(async () => {
    await rm(crdDir, { recursive: true, force: true });
  });

  it('installs a CRD from a directory of YAML and reports it Established', async () => {
    const [installed, ...rest] = await plane().installCRDs(crdDir);
    expect(rest).toHaveLength(0);
    expect(installed?.metadata?.name).toBe(`${plural}.${group}`);
    const conditions = Object.fromEntries(
      (installed?.status?.conditions ?? []).map((c) => [c.type, c.status]),
    );
    expect(conditions).toMatchObject({ NamesAccepted: 'True', Established: 'True' });
    expect(conditions['NonStructuralSchema']).toBeUndefined();
  });

  it('serves the CRD with its structural schema: unknown fields pruned, CEL rules enforced', async () => {
    const created = (await objects.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      body: {
        ...widget('pruned', { asn: 64500, mode: 'active' }),
        spec: { asn: 64500, mode: 'active', colour: 'red' },
      },
    })) as Widget;
    expect(created.spec).toEqual({ asn: 64500, mode: 'active' });

    const passive = await rejection(
      objects.createNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        body: widget('nowhere', { asn: 64501, mode: 'passive' }),
      }),
    );
    expect(passive.code).toBe(422);
    expect(JSON.stringify(passive.body)).toContain('a passive widget needs a location');

    const renumbered = await rejection(
      objects.replaceNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        name: 'pruned',
        body: { ...created, spec: { ...created.spec, asn: 64999 } },
      }),
    );
    expect(renumbered.code).toBe(422);
    expect(JSON.stringify(renumbered.body)).toContain('asn is immutable');
  });

  it('rejects a CRD whose CEL rule does not compile, with the compiler message', async () => {
    const broken = structuredClone(widgetCrd);
    broken.metadata.name = `brokens.${group}`;
    broken.spec.names = { plural: 'brokens', singular: 'broken', kind: 'Broken', listKind: 'BrokenList' };
    const spec = broken.spec.versions[0]?.schema.openAPIV3Schema.properties.spec;
    if (spec === undefined) throw new Error('test CRD has no spec schema');
    spec['x-kubernetes-validations'] = [{ rule: 'self.nosuchfield > 1', message: 'never compiles' }];

    const error = await rejection(plane().installCRDs([broken]));
    expect(error.code).toBe(422);
    expect(JSON.stringify(error.body)).toMatch(/compil|undefined field 'nosuchfield'/);
  });

  it('refuses a CRD directory that holds something other than CRDs, naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'peering-crds-'));
    try {
      await writeFile(join(dir, 'namespace.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n');
      await expect(plane().installCRDs(dir)).rejects.toThrow(CrdSourceError);
      await expect(plane().installCRDs(dir)).rejects.toThrow(
        /namespace\.yaml: expected apiextensions.k8s.io\/v1 CustomResourceDefinition, found v1 Namespace/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("lets the machine's kubectl list widgets with the CRD's printer columns", async () => {
    const body = widget('printed', { asn: 64510, mode: 'passive', location: 'fra1' });
    await objects.createNamespacedCustomObject({ group, version, namespace, plural, body });
    const current = (await objects.getNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name: 'printed',
    })) as Widget;
    await objects.replaceNamespacedCustomObjectStatus({
      group,
      version,
      namespace,
      plural,
      name: 'printed',
      body: { ...current, status: { phase: 'Ready' } },
    });

    const { stdout } = await plane().kubectl(['get', `${plural}.${group}`, '--namespace', namespace]);
    const lines = stdout.trim().split('\n');
    expect(lines[0]?.split(/\s+/)).toEqual(['NAME', 'ASN', 'MODE', 'PHASE', 'AGE']);
    const printed = lines.find((line) => line.startsWith('printed '));
    expect(printed?.split(/\s+/).slice(0, 4)).toEqual(['printed', '64510', 'passive', 'Ready']);
  });

  it('feeds a client-node informer create, update and delete events', async () => {
    const informerNamespace = await plane().newNamespace('informer');
    const informer = makeInformer<Widget>(
      plane().kubeConfig,
      `/apis/${group}/${version}/namespaces/${informerNamespace}/${plural}`,
      () =>
        objects.listNamespacedCustomObject({
          group,
          version,
          namespace: informerNamespace,
          plural,
        }) as Promise<KubernetesListObject<Widget>>,
    );
    const events: string[] = [];
    for (const verb of ['add', 'update', 'delete'] as const) {
      informer.on(verb, (object) =>
        events.push(`${verb} ${object.metadata?.name} ${object.spec.location ?? '-'}`),
      );
    }
    const seen = async (event: string): Promise<void> => {
      const deadline = Date.now() + 15_000;
      while (!events.includes(event) && Date.now() < deadline) await sleep(50);
      expect(events).toContain(event);
    };

    await informer.start();
    try {
      const where = { group, version, namespace: informerNamespace, plural };
      const created = (await objects.createNamespacedCustomObject({
        ...where,
        body: widget('watched', { asn: 64520, mode: 'active', location: 'ams1' }),
      })) as Widget;
      await seen('add watched ams1');

      await objects.replaceNamespacedCustomObject({
        ...where,
        name: 'watched',
        body: { ...created, spec: { ...created.spec, location: 'lon1' } },
      });
      await seen('update watched lon1');

      await objects.deleteNamespacedCustomObject({ ...where, name: 'watched' });
      await seen('delete watched lon1');
    } finally {
      await informer.stop();
    }
  });

  it('answers 409 Conflict to a write with a stale resourceVersion', async () => {
    const where = { group, version, namespace, plural, name: 'contended' };
    await objects.createNamespacedCustomObject({
      ...where,
      body: widget('contended', { asn: 64530, mode: 'active' }),
    });
    const stale = (await objects.getNamespacedCustomObject(where)) as Widget;
    await objects.replaceNamespacedCustomObject({
      ...where,
      body: { ...stale, spec: { ...stale.spec, location: 'a' } },
    });

    const conflict = await rejection(
      objects.replaceNamespacedCustomObject({
        ...where,
        body: { ...stale, spec: { ...stale.spec, location: 'b' } },
      }),
    );
    expect(conflict.code).toBe(409);
    const current = (await objects.getNamespacedCustomObject(where)) as Widget;
    expect(current.spec.location).toBe('a');
  });

  it('enforces RBAC: a ServiceAccount may do only what a Role grants it', async () => {
    const operator = await plane().serviceAccountKubeConfig(namespace, 'least-privilege');
    const asOperator = operator.makeApiClient(CustomObjectsApi);
    const list = (): Promise<unknown> =>
      asOperator.listNamespacedCustomObject({ group, version, namespace, plural });
    expect((await rejection(list())).code).toBe(403);

    const rbac = plane().kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'widget-reader' },
        rules: [{ apiGroups: [group], resources: [plural], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'widget-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'widget-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'least-privilege', namespace }],
      },
    });
    // The authorizer reads RBAC objects from its watch cache, a moment behind the write.
    const deadline = Date.now() + 10_000;
    let allowed = false;
    while (!allowed && Date.now() < deadline) {
      allowed = await list().then(
        () => true,
        () => false,
      );
      if (!allowed) await sleep(100);
    }
    expect(allowed).toBe(true);

    const write = await rejection(
      asOperator.createNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        body: widget('forbidden', { asn: 64540, mode: 'active' }),
      }),
    );
    expect(write.code).toBe(403);
  });
});

/** Polls `probe` until it gives something other than undefined; fails naming `what` after `timeoutMs`. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms in vain for ${what}`);
    await sleep(100);
  }
}

/** Whether reading an object answers 404. */
async function isGone(read: Promise<unknown>): Promise<boolean> {
  try {
    await read;
    return false;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return true;
    throw error;
  }
}

function controlledBy(object: KubernetesObject, owner: KubernetesObject): boolean {
  return (object.metadata?.ownerReferences ?? []).some(
    (reference) => reference.controller === true && reference.uid === owner.metadata?.uid,
  );
}

function deployment(name: string, replicas: number): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }],
          // Only matters on an existing cluster, where the Pod may run.
          terminationGracePeriodSeconds: 0,
        },
      },
    },
  };
}

describeWithControlPlane(
  'kube-controller-manager, opt-in (real deployment, replicaset, disruption and garbage-collector controllers)',
  (plane) => {
    let namespace: string;
    let apps: AppsV1Api;
    let core: CoreV1Api;
    let policy: PolicyV1Api;
    // Only a local plane is sure to have no scheduler; an existing cluster may run the Pods.
    const local = (): boolean => plane().kind === 'local';

    beforeAll(async () => {
      namespace = await plane().newNamespace('workloads');
      apps = plane().kubeConfig.makeApiClient(AppsV1Api);
      core = plane().kubeConfig.makeApiClient(CoreV1Api);
      policy = plane().kubeConfig.makeApiClient(PolicyV1Api);
    });

    const observed = (name: string): Promise<V1Deployment> =>
      eventually(`Deployment ${name}'s status.observedGeneration to reach its generation`, async () => {
        const current = await apps.readNamespacedDeployment({ name, namespace });
        return current.status?.observedGeneration === current.metadata?.generation ? current : undefined;
      });

    it("writes a Deployment's status.observedGeneration, and again after a change of spec", async () => {
      await apps.createNamespacedDeployment({ namespace, body: deployment('idle', 0) });
      const first = await observed('idle');
      expect(first.metadata?.generation).toBe(1);
      expect(first.status?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(
        expect.arrayContaining(['Available=True', 'Progressing=True']),
      );

      // What Argo CD's Deployment health waits for after every sync.
      const changed = structuredClone(first);
      changed.spec!.template.metadata!.annotations = { 'peering-operator.test/revision': '2' };
      await apps.replaceNamespacedDeployment({ name: 'idle', namespace, body: changed });
      const second = await observed('idle');
      expect(second.metadata?.generation).toBe(2);
    });

    it.each(['Foreground', 'Background'] as const)(
      'gives a Deployment of one replica a ReplicaSet and a Pending Pod, all collected after a %s delete',
      async (propagationPolicy) => {
        const name = `one-${propagationPolicy.toLowerCase()}`;
        const created = await apps.createNamespacedDeployment({ namespace, body: deployment(name, 1) });
        const replicaSet = await eventually(`a ReplicaSet controlled by Deployment ${name}`, async () =>
          (await apps.listNamespacedReplicaSet({ namespace })).items.find((rs) => controlledBy(rs, created)),
        );
        const pod = await eventually(
          `a Pod controlled by ReplicaSet ${replicaSet.metadata?.name}`,
          async () =>
            (await core.listNamespacedPod({ namespace })).items.find((p) => controlledBy(p, replicaSet)),
        );
        if (local()) {
          expect(pod.status?.phase).toBe('Pending');
          expect(pod.spec?.nodeName).toBeUndefined();
        }
        const status = await eventually(`Deployment ${name} to count its replica`, async () => {
          const current = await observed(name);
          return current.status?.replicas === 1 ? current.status : undefined;
        });
        expect(status).toMatchObject({ replicas: 1, updatedReplicas: 1 });
        if (local()) expect(status).toMatchObject({ unavailableReplicas: 1 });

        await apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy });
        await eventually(`Deployment ${name}, its ReplicaSet and its Pod to be deleted`, async () => {
          const gone = await Promise.all([
            isGone(apps.readNamespacedDeployment({ name, namespace })),
            isGone(apps.readNamespacedReplicaSet({ name: replicaSet.metadata!.name!, namespace })),
            isGone(core.readNamespacedPod({ name: pod.metadata!.name!, namespace })),
          ]);
          return gone.every(Boolean) ? true : undefined;
        });
      },
    );

    it("writes a PodDisruptionBudget's status, counting the Deployment's Pod", async () => {
      await apps.createNamespacedDeployment({ namespace, body: deployment('guarded', 1) });
      await policy.createNamespacedPodDisruptionBudget({
        namespace,
        body: {
          metadata: { name: 'guarded' },
          spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } },
        },
      });
      const status = await eventually('the PodDisruptionBudget status to count one Pod', async () => {
        const pdb = await policy.readNamespacedPodDisruptionBudget({ name: 'guarded', namespace });
        return pdb.status?.observedGeneration === pdb.metadata?.generation && pdb.status?.expectedPods === 1
          ? pdb.status
          : undefined;
      });
      expect(status.observedGeneration).toBe(1);
      // A Pending Pod is not healthy, so no disruption is allowed.
      if (local())
        expect(status).toMatchObject({ currentHealthy: 0, desiredHealthy: 1, disruptionsAllowed: 0 });
    });
  },
  { controllerManager: true },
);

// Processes whose command line mentions `text`, read from /proc as ps would.
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // gone between readdir and read
    }
  }
  return pids;
}

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const source = findControlPlaneSource();
// Only a local control plane has processes and ports of its own to check.
(source.kind === 'binaries' || source.kind === 'build' ? describe : describe.skip)(
  'control plane lifecycle',
  () => {
    it('starts within 20 s once built, and stop() leaves no process, port or folder behind', async () => {
      const started = Date.now();
      const local = await startControlPlane({ source });
      const startupMs = Date.now() - started;
      const logDir = local.logDir as string;
      const port = Number(new URL(local.server).port);
      try {
        console.info(`control plane started in ${startupMs} ms at ${local.server}`);
        expect(processesMentioning(logDir).length).toBeGreaterThanOrEqual(2);
        // Opt-in only: existing suites get no controllers acting on their objects.
        expect(processesMentioning(join(logDir, 'kube-controller-manager'))).toEqual([]);
        expect(await portAcceptsConnections(port)).toBe(true);
        expect(startupMs).toBeLessThan(20_000);
      } finally {
        await local.stop();
      }
      expect(processesMentioning(logDir)).toEqual([]);
      expect(await portAcceptsConnections(port)).toBe(false);
      expect(readdirSync(tmpdir())).not.toContain(logDir.split('/').pop());
      await expect(local.newNamespace()).rejects.toThrow(/stopped/);
    }, 120_000);

    it('with controllerManager, also runs kube-controller-manager, and stop() ends it with the rest', async () => {
      const started = Date.now();
      const local = await startControlPlane({ source, controllerManager: true });
      const startupMs = Date.now() - started;
      const logDir = local.logDir as string;
      try {
        console.info(`control plane with kube-controller-manager started in ${startupMs} ms`);
        expect(processesMentioning(join(logDir, 'kube-controller-manager')).length).toBeGreaterThanOrEqual(1);
        expect(startupMs).toBeLessThan(20_000);
      } finally {
        await local.stop();
      }
      expect(processesMentioning(logDir)).toEqual([]);
    }, 120_000);

    it("fails a start with kube-controller-manager's own complaint about an unknown controller", async () => {
      const failed = startControlPlane({
        source,
        controllerManager: { controllers: ['no-such-controller'] },
      });
      await expect(failed).rejects.toThrow(ControlPlaneStartError);
      await expect(failed).rejects.toThrow(/kube-controller-manager exited[\s\S]*no-such-controller/);
      expect(processesMentioning(`peering-envtest-${process.pid}-`)).toEqual([]);
    }, 120_000);

    it('refuses controllerManager for a folder without kube-controller-manager, naming build.sh; without it, starts as before', async () => {
      const built = source.kind === 'binaries' ? source.dir : await buildBinaries();
      // Like an envtest download: kube-apiserver and etcd only.
      const assets = await mkdtemp(join(tmpdir(), 'peering-assets-'));
      try {
        for (const binary of ['kube-apiserver', 'etcd'])
          await symlink(join(built, binary), join(assets, binary));
        const envtest = { kind: 'binaries', dir: assets, origin: 'KUBEBUILDER_ASSETS' } as const;

        const refused = startControlPlane({ source: envtest, controllerManager: true });
        await expect(refused).rejects.toThrow(ControlPlaneUnavailableError);
        await expect(refused).rejects.toThrow(
          /KUBEBUILDER_ASSETS \(.*\) has no executable kube-controller-manager\. Run .*test-support\/kube\/build\.sh/,
        );

        const plain = await startControlPlane({ source: envtest });
        await plain.stop();
      } finally {
        await rm(assets, { recursive: true, force: true });
      }
    }, 120_000);

    it("fails a start with the API server's own complaint, and leaves nothing running", async () => {
      const failed = startControlPlane({ source, apiServerArgs: ['--authorization-mode=NoSuchMode'] });
      await expect(failed).rejects.toThrow(ControlPlaneStartError);
      await expect(failed).rejects.toThrow(/kube-apiserver exited[\s\S]*NoSuchMode/);
      // Every control plane of this test process, the suite's above included, is gone by now.
      expect(processesMentioning(`peering-envtest-${process.pid}-`)).toEqual([]);
    }, 120_000);
  },
);
