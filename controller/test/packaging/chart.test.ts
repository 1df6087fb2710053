import { spawnSync } from 'node:child_process';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/config.js';
import { REQUEST_FINALIZER, SESSION_FINALIZER } from '../../src/operator/resources/api-group.js';
import { CRD_DIRS } from '../../src/operator/resources/generate-crds.js';
import { RBAC_RULES_FILE } from '../operator/support/rbac.js';
import { REPO_ROOT } from '../support/sample.js';
import {
  CHART_DIR,
  HelmError,
  MUTATING_ADMISSION_POLICY,
  REQUIRED_CONFIG,
  describeWithHelm,
  lintChart,
  only,
  parseManifests,
  renderChart,
  runHelm,
  withRequiredValues,
  type RenderedObject,
} from './helm.js';
import { checkedInValuesSchema, configValuesSchema } from './values-schema.js';
import { ALL_ON, ROUTER_AGENTS } from './value-sets.js';

type Container = {
  args: string[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  resources: { requests?: { cpu?: string; memory?: string } };
  securityContext: Record<string, unknown> & { capabilities: { drop: string[] } };
};

function container(objects: RenderedObject[]): Container {
  const deployment = only(objects, 'Deployment') as unknown as {
    spec: { template: { spec: { containers: Container[] } } };
  };
  return deployment.spec.template.spec.containers[0] as Container;
}

function mountedConfig(objects: RenderedObject[]): unknown {
  const configMap = only(objects, 'ConfigMap') as unknown as { data: Record<string, string> };
  return parse(configMap.data['config.yaml'] as string);
}

/** The CRDs of the repository's top-level crds/, as objects. */
function topLevelCrds(): RenderedObject[] {
  return readdirSync(join(REPO_ROOT, 'crds'))
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(REPO_ROOT, 'crds', file), 'utf8')).map(
        (d) => d.toJS() as RenderedObject,
      ),
    );
}

const rbacRules = parse(readFileSync(join(CHART_DIR, 'files/rbac-rules.yaml'), 'utf8')) as {
  operator: unknown[];
  leaderElection: unknown[];
};

describeWithHelm('Helm chart', (helm) => {
  it('passes helm lint --strict with the defaults (plus the required values) and with every option on', async () => {
    await expect(lintChart(helm())).resolves.toContain('0 chart(s) failed');
    await expect(lintChart(helm(), ALL_ON)).resolves.toContain('0 chart(s) failed');
  });

  it('renders the defaults (plus the required values): two replicas with leader election, hardened, probed, with requests', async () => {
    const { objects } = await renderChart(helm());
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'Role',
      'Role',
      'RoleBinding',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    const deployment = only(objects, 'Deployment') as unknown as {
      spec: { replicas: number; template: { spec: Record<string, unknown> } };
    };
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    expect(pod.serviceAccountName).toBe(only(objects, 'ServiceAccount').metadata.name);

    const main = container(objects);
    expect(main.args[0]).toBe('operator');
    expect(main.args).toEqual(
      expect.arrayContaining([
        '--config=/etc/peering-operator/config.yaml',
        '--health-listen=0.0.0.0:8081',
        '--inbound-namespace=$(POD_NAMESPACE)',
        '--leader-elect',
        '--lease-namespace=$(POD_NAMESPACE)',
        '--watch-namespace=$(POD_NAMESPACE)',
      ]),
    );
    // The operator's health server by default: its liveness includes the leader's Lease being fresh.
    expect(main.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(main.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(main.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'health', containerPort: 8081, protocol: 'TCP' },
    ]);
    const service = only(objects, 'Service') as unknown as { spec: { ports: { name: string }[] } };
    expect(service.spec.ports.map((p) => p.name)).toEqual(['http', 'health']);
    expect(main.resources.requests).toEqual({ cpu: '100m', memory: '192Mi' });
    // The heap limit the operator benchmark runs with, below the container's memory limit.
    expect(main.env).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=256' });
    expect(main.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(only(objects, 'PodDisruptionBudget')).toMatchObject({ spec: { maxUnavailable: 1 } });
  });

  it('starts the operator with a command and flags the program really has', async () => {
    const bin = join(REPO_ROOT, 'dist', 'controller', 'src', 'cli', 'peering-operator.js');
    for (const values of [{}, ALL_ON]) {
      const { objects } = await renderChart(helm(), values);
      const [command, ...args] = container(objects).args;
      const help = spawnSync(process.execPath, [bin, command as string, '--help'], { encoding: 'utf8' });
      expect(help.status).toBe(0);
      for (const flag of args.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0] as string)) {
        expect([flag, help.stdout.includes(`${flag} `) || help.stdout.includes(`${flag}\n`)]).toEqual([
          flag,
          true,
        ]);
      }
    }
  });

  it('shares the page-token key between replicas from a Secret when one is named', async () => {
    const { objects } = await renderChart(helm(), {
      credentials: { pageTokenKey: { secretName: 'peering-page-token', key: 'key' } },
    });
    expect(mountedConfig(objects)).toMatchObject({ store: { pageTokenKeyEnv: 'PEERING_PAGE_TOKEN_KEY' } });
    expect(container(objects).env).toContainEqual({
      name: 'PEERING_PAGE_TOKEN_KEY',
      valueFrom: { secretKeyRef: { name: 'peering-page-token', key: 'key' } },
    });
    const defaults = await renderChart(helm());
    expect(mountedConfig(defaults.objects)).toMatchObject({
      store: { dataDir: '/var/lib/peering-operator' },
    });
    expect(container(defaults.objects).env.map((e) => e.name)).not.toContain('PEERING_PAGE_TOKEN_KEY');
  });

  it('keeps each peer on one replica when asked, for replica-scoped DPoP nonces', async () => {
    const service = (objects: { kind: string; spec?: Record<string, unknown> }[]) =>
      objects.find((o) => o.kind === 'Service')?.spec;
    expect(service((await renderChart(helm())).objects)).not.toHaveProperty('sessionAffinity');
    const { objects } = await renderChart(helm(), {
      service: { sessionAffinity: 'ClientIP' },
      config: { auth: { dpop: { nonces: true, nonceScope: 'replica' } } },
    });
    expect(service(objects)).toMatchObject({ sessionAffinity: 'ClientIP' });
    expect(mountedConfig(objects)).toMatchObject({ auth: { dpop: { nonces: true, nonceScope: 'replica' } } });
  });

  it('mounts a configuration the program itself accepts, listening on the container port', async () => {
    for (const values of [{}, ALL_ON]) {
      const { objects } = await renderChart(helm(), values);
      const config = parseConfig(mountedConfig(objects), 'the rendered ConfigMap');
      expect(config.listen).toBe(`0.0.0.0:${container(objects).ports[0]?.containerPort}`);
      expect(config.store.dataDir).toBe('/var/lib/peering-operator');
    }
  });

  it("publishes the program's default base path, and refuses to publish the root", async () => {
    const values = (config: Record<string, unknown>) => ({
      ingress: { enabled: true, hosts: [{ host: 'peering.example.net' }] },
      config: {
        asns: [64500],
        apiUrl: 'https://peering.example.net',
        peeringdb: { url: 'https://pdb.example.net' },
        ...config,
      },
    });
    // null removes the chart's default, as a user leaving basePath out of a fresh config would.
    const ingress = only(
      (await renderChart(helm(), values({ basePath: null }))).objects,
      'Ingress',
    ) as unknown as {
      spec: { rules: { http: { paths: { path: string }[] } }[] };
    };
    expect(ingress.spec.rules[0]?.http.paths.map((p) => p.path)).toEqual(['/v0.1']);
    await expect(renderChart(helm(), values({ basePath: '' }))).rejects.toThrow(/non-empty config.basePath/);
  });

  it('probes the Peering API server instead when asked, and refuses one port for both servers', async () => {
    const main = container((await renderChart(helm(), { probes: { port: 'api' } })).objects);
    expect(main.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(main.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    await expect(renderChart(helm(), { ports: { api: 8080, health: 8080 } })).rejects.toThrow(
      /ports.api and ports.health must differ/,
    );
  });

  it('passes credentials by Secret reference only', async () => {
    const { objects, text } = await renderChart(helm(), ALL_ON);
    const env = container(objects).env;
    expect(env.find((e) => e.name === 'PEERINGDB_API_KEY')?.valueFrom?.secretKeyRef).toEqual({
      name: 'peeringdb',
      key: 'api-key',
    });
    expect(env.find((e) => e.name === 'PEERING_TOKEN_AS64501')?.valueFrom?.secretKeyRef).toEqual({
      name: 'peering-static-tokens',
      key: 'as64501',
    });
    expect(parseConfig(mountedConfig(objects)).peeringdb.apiKeyEnv).toBe('PEERINGDB_API_KEY');
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
    expect(text).not.toMatch(/^\s*token:/m);
  });

  it('grants exactly the rules of files/rbac-rules.yaml, namespaced or cluster-wide', async () => {
    const namespaced = (await renderChart(helm())).objects;
    const roles = namespaced.filter((o) => o.kind === 'Role') as unknown as { rules: unknown[] }[];
    expect(roles.map((r) => r.rules)).toEqual([rbacRules.operator, rbacRules.leaderElection]);
    expect(namespaced.some((o) => o.kind.startsWith('Cluster'))).toBe(false);

    const wide = (await renderChart(helm(), { rbac: { clusterWide: true } })).objects;
    expect((only(wide, 'ClusterRole') as unknown as { rules: unknown[] }).rules).toEqual(rbacRules.operator);
    expect(only(wide, 'ClusterRoleBinding')).toMatchObject({
      roleRef: { kind: 'ClusterRole' },
      subjects: [{ kind: 'ServiceAccount', namespace: 'peering' }],
    });
    expect(container(wide).args.some((a) => a.startsWith('--watch-namespace'))).toBe(false);
  });

  it('puts the finalizers on at admission where the cluster serves it, only in the namespaces it reconciles', async () => {
    const policyKinds = (objects: RenderedObject[]) =>
      objects.map((o) => o.kind).filter((kind) => kind.startsWith('MutatingAdmissionPolicy'));
    const served = { apiVersions: [MUTATING_ADMISSION_POLICY] };
    expect(policyKinds((await renderChart(helm())).objects)).toEqual([]);
    expect(policyKinds((await renderChart(helm(), { finalizerPolicy: false }, served)).objects)).toEqual([]);

    const { objects } = await renderChart(helm(), {}, { ...served, namespace: 'peering' });
    const policy = only(objects, 'MutatingAdmissionPolicy') as unknown as {
      metadata: { name: string };
      spec: { failurePolicy: string; mutations: { applyConfiguration: { expression: string } }[] };
    };
    expect(policy.spec.failurePolicy).toBe('Ignore');
    const expression = policy.spec.mutations[0]?.applyConfiguration.expression ?? '';
    expect(expression).toContain(`"${SESSION_FINALIZER}"`);
    expect(expression).toContain(`"${REQUEST_FINALIZER}"`);
    const binding = only(objects, 'MutatingAdmissionPolicyBinding') as unknown as {
      spec: { policyName: string; matchResources: { namespaceSelector: unknown } };
    };
    expect(binding.spec.policyName).toBe(policy.metadata.name);
    expect(binding.spec.matchResources.namespaceSelector).toEqual({
      matchLabels: { 'kubernetes.io/metadata.name': 'peering' },
    });

    const wide = await renderChart(helm(), { rbac: { clusterWide: true } }, served);
    expect(
      (
        only(wide.objects, 'MutatingAdmissionPolicyBinding') as unknown as {
          spec: { matchResources: unknown };
        }
      ).spec.matchResources,
    ).toEqual({ namespaceSelector: {} });
    // `true` renders it even where helm cannot see the API (helm template, or an install that insists).
    expect(policyKinds((await renderChart(helm(), { finalizerPolicy: true })).objects)).toEqual([
      'MutatingAdmissionPolicy',
      'MutatingAdmissionPolicyBinding',
    ]);
    await expect(renderChart(helm(), { finalizerPolicy: 'always' })).rejects.toThrow(/finalizerPolicy/);
    await expect(renderChart(helm(), { nodeHeapMiB: '256m' })).rejects.toThrow(/nodeHeapMiB/);
  });

  it('adds extra arguments, volumes and a sidecar (e.g. BIRD) when given', async () => {
    const { objects } = await renderChart(helm(), ALL_ON);
    const pod = (
      only(objects, 'Deployment') as unknown as {
        spec: { template: { spec: { containers: { name: string }[]; volumes: { name: string }[] } } };
      }
    ).spec.template.spec;
    expect(pod.containers.map((c) => c.name)).toEqual(['peering-operator', 'bird']);
    expect(pod.volumes.map((v) => v.name)).toEqual(['config', 'data', 'tmp', 'bird-run']);
    expect(container(objects).args.slice(-3)).toEqual([
      '--router=bird',
      '--bird-socket=/run/bird/bird.ctl',
      '--bird-include-dir=/run/bird/peering',
    ]);
  });

  it('has no default router: an install must choose bird or none (issue 15)', async () => {
    const chartValues = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as {
      router: { driver: string };
    };
    expect(chartValues.router.driver).toBe('');
    // What `helm install` with the chart's defaults does: the values schema names the field.
    await expect(renderChart(helm(), { router: { driver: '' } })).rejects.toThrow(
      /router\/driver|router.driver/,
    );
    await expect(renderChart(helm(), { router: { driver: 'recording' } })).rejects.toThrow(/router/);
    const none = container((await renderChart(helm(), { router: { driver: 'none' } })).objects);
    expect(none.args).toContain('--router=none');
    expect(none.args.some((a) => a.startsWith('--bird-'))).toBe(false);
  });

  it('router agents: Routers from the values, an agent Deployment per host or sidecar Router, their RBAC from the rules file', async () => {
    const { objects } = await renderChart(helm(), ROUTER_AGENTS);
    const operatorOnly = objects.filter((o) => !o.metadata.name.includes('-agent-'));
    expect(container(operatorOnly).args).toEqual(
      expect.arrayContaining(['--router=agents', '--agent-timeout=15s']),
    );
    const routers = objects.filter((o) => o.kind === 'Router');
    expect(routers.map((r) => [r.metadata.name, r.spec])).toEqual([
      [
        'edge1',
        {
          driver: 'bird',
          addresses: ['192.0.2.10', '2001:db8:1::/64'],
          locations: ['pdb:ix:26'],
          timers: { hold: 90, keepalive: 30 },
        },
      ],
      ['edge2', { driver: 'bird', addresses: ['192.0.2.11'] }],
      ['edge3', { driver: 'bird', addresses: ['192.0.2.12'] }],
    ]);
    type Pod = {
      hostNetwork?: boolean;
      nodeSelector?: Record<string, string>;
      serviceAccountName: string;
      containers: { name: string; args?: string[] }[];
      volumes: { name: string; hostPath?: { path: string }; emptyDir?: object }[];
    };
    const agents = objects
      .filter((o) => o.kind === 'Deployment' && o.metadata.name.includes('-agent-'))
      .map((o) => (o as unknown as { spec: { template: { spec: Pod } } }).spec.template.spec);
    // edge3's agent runs on the router host itself (external): nothing to deploy for it.
    expect(agents).toHaveLength(2);
    const [host, sidecar] = agents as [Pod, Pod];
    expect(host.nodeSelector).toEqual({ 'kubernetes.io/hostname': 'edge1' });
    expect(host.containers.map((c) => c.name)).toEqual(['router-agent']);
    expect(host.containers[0]?.args).toEqual([
      'router-agent',
      '--router=edge1',
      '--namespace=$(POD_NAMESPACE)',
      '--driver=bird',
      '--bird-socket=/run/bird/bird.ctl',
      '--bird-include-dir=/etc/bird/peering',
    ]);
    expect(host.volumes.map((v) => v.hostPath?.path)).toEqual(['/run/bird', '/etc/bird/peering']);
    expect(sidecar.hostNetwork).toBe(true);
    expect(sidecar.containers.map((c) => c.name)).toEqual(['router-agent', 'bgp']);
    expect(sidecar.volumes.every((v) => v.emptyDir !== undefined)).toBe(true);
    expect(new Set(agents.map((a) => a.serviceAccountName))).toEqual(
      new Set(['peering-peering-operator-router-agent']),
    );
    const role = objects.find((o) => o.kind === 'Role' && o.metadata.name.endsWith('-router-agent'));
    const rules = parse(readFileSync(RBAC_RULES_FILE, 'utf8')) as { routerAgent: unknown };
    expect((role as unknown as { rules: unknown }).rules).toEqual(rules.routerAgent);
    await lintChart(helm(), ROUTER_AGENTS);
  });

  it('router agents: the values schema and the templates name what is missing or contradictory', async () => {
    const agents = ROUTER_AGENTS.router as { routers: Record<string, unknown>[] };
    const withRouters = (routers: unknown[], driver = 'agents') => ({ router: { driver, routers } });
    await expect(renderChart(helm(), withRouters(agents.routers, 'bird'))).rejects.toThrow(
      /router.routers needs router.driver: agents/,
    );
    await expect(
      renderChart(
        helm(),
        withRouters([{ name: 'edge1', driver: 'bird', addresses: ['192.0.2.1'], agent: { mode: 'host' } }]),
      ),
    ).rejects.toThrow(/nodeSelector/);
    await expect(
      renderChart(helm(), withRouters([{ name: 'edge1', driver: 'bird', addresses: [] }])),
    ).rejects.toThrow(/addresses/);
    await expect(
      renderChart(
        helm(),
        withRouters([
          { name: 'edge1', driver: 'bird', addresses: ['192.0.2.1'], agent: { mode: 'sidecar' } },
        ]),
      ),
    ).rejects.toThrow(/sidecar/);
    // FRR's agent speaks bgpd's vty socket itself: in the cluster it mounts the socket folder (the host's, or one
    // shared with an FRR sidecar), joins FRR's vty group, and needs no vtysh.
    const frrHost = await renderChart(
      helm(),
      withRouters([
        {
          name: 'edge4',
          driver: 'frr',
          addresses: ['192.0.2.4'],
          agent: { mode: 'host', nodeSelector: { a: 'b' }, frr: { socketGroup: 92, listenPort: 1179 } },
        },
        {
          name: 'edge5',
          driver: 'frr',
          addresses: ['192.0.2.5'],
          agent: { mode: 'sidecar', sidecar: { image: 'quay.io/frrouting/frr:8.4.4' } },
        },
      ]),
    );
    const agentPod = (name: string) =>
      (
        frrHost.objects.find(
          (o) => o.kind === 'Deployment' && o.metadata.name.endsWith(`-agent-${name}`),
        ) as unknown as {
          spec: { template: { spec: PodSpec } };
        }
      ).spec.template.spec;
    type PodSpec = {
      securityContext?: { supplementalGroups?: number[] };
      containers: { name: string; args?: string[]; volumeMounts: { name: string; mountPath: string }[] }[];
      volumes: { name: string; hostPath?: { path: string }; emptyDir?: object }[];
    };
    const host = agentPod('edge4');
    expect(host.securityContext).toEqual({ supplementalGroups: [92] });
    expect(host.containers[0]?.args).toEqual(
      expect.arrayContaining(['--driver=frr', '--frr-vty-socket=/var/run/frr', '--frr-listen-port=1179']),
    );
    expect(host.containers[0]?.args?.some((a) => a.startsWith('--bird'))).toBe(false);
    expect(host.volumes).toEqual([
      { name: 'frr-run', hostPath: { path: '/var/run/frr', type: 'Directory' } },
    ]);
    const sidecar = agentPod('edge5');
    expect(sidecar.volumes).toEqual([{ name: 'frr-run', emptyDir: {} }]);
    expect(sidecar.containers.map((c) => [c.name, c.volumeMounts])).toEqual([
      ['router-agent', [{ name: 'frr-run', mountPath: '/var/run/frr' }]],
      ['bgp', [{ name: 'frr-run', mountPath: '/var/run/frr' }]],
    ]);
    const frr = await renderChart(
      helm(),
      withRouters([{ name: 'edge4', driver: 'frr', addresses: ['192.0.2.4'] }]),
    );
    expect(frr.objects.find((o) => o.kind === 'Router')?.spec).toEqual({
      driver: 'frr',
      addresses: ['192.0.2.4'],
    });
  });

  it('renders the optional Ingress (API path only), ServiceMonitor and NetworkPolicy', async () => {
    const { objects } = await renderChart(helm(), ALL_ON);
    const ingress = only(objects, 'Ingress') as unknown as {
      spec: { ingressClassName: string; rules: { http: { paths: { path: string }[] } }[] };
    };
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.rules.flatMap((r) => r.http.paths.map((p) => p.path))).toEqual(['/v0.1']);
    expect(only(objects, 'ServiceMonitor')).toMatchObject({
      metadata: { labels: { release: 'kube-prometheus-stack' } },
      spec: {
        endpoints: [
          { port: 'health', path: '/metrics' },
          { port: 'http', path: '/metrics' },
        ],
      },
    });
    const policy = only(objects, 'NetworkPolicy') as unknown as {
      spec: { ingress: { ports: { port: string }[] }[]; egress: { ports: { port: number }[] }[] };
    };
    expect(policy.spec.ingress.map((rule) => rule.ports)).toEqual([
      [{ port: 'http', protocol: 'TCP' }],
      [{ port: 'health', protocol: 'TCP' }],
    ]);
    expect(policy.spec.egress.flatMap((rule) => rule.ports.map((p) => p.port)).sort()).toEqual([
      443, 53, 53, 6443,
    ]);
  });

  // Each refused at install by values.schema.json, with the field named.
  const BAD_VALUES: { name: string; values: Record<string, unknown>; error: RegExp }[] = [
    { name: 'a replica count in words', values: { replicaCount: 'two' }, error: /\/replicaCount/ },
    {
      name: 'two replicas without leader election',
      values: { leaderElection: { enabled: false } },
      error: /\/leaderElection\/enabled/,
    },
    {
      name: 'a misspelt configuration key',
      values: { config: { policy: { aproval: 'manual' } } },
      error: /\/config\/policy.*aproval/,
    },
    {
      name: 'an unknown approval mode',
      values: { config: { policy: { approval: 'sometimes' } } },
      error: /\/config\/policy\/approval/,
    },
    {
      name: 'a static token inline (it would land in a ConfigMap)',
      values: {
        config: {
          auth: { staticTokens: [{ token: 'x'.repeat(20), subject: 's', networks: [{ asn: 1, perms: 1 }] }] },
        },
      },
      error: /\/config\/auth\/staticTokens\/0/,
    },
    { name: 'listen set in values', values: { config: { listen: '0.0.0.0:1' } }, error: /\/config.*listen/ },
    {
      name: 'running as root',
      values: { securityContext: { runAsUser: 0 } },
      error: /\/securityContext\/runAsUser/,
    },
    { name: 'a privileged port', values: { ports: { api: 80 } }, error: /\/ports\/api/ },
    { name: 'an unknown probe port', values: { probes: { port: 'metrics' } }, error: /\/probes\/port/ },
    { name: 'an ASN of zero', values: { config: { asns: [0] } }, error: /\/config\/asns\/0/ },
    {
      name: 'both PDB bounds',
      values: { podDisruptionBudget: { enabled: true, minAvailable: 1 } },
      error: /\/podDisruptionBudget/,
    },
    { name: 'an unknown top-level key', values: { replicas: 3 }, error: /replicas/ },
  ];

  it.each(BAD_VALUES)('refuses $name', async ({ values, error }) => {
    const failure = await renderChart(helm(), values).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(HelmError);
    expect((failure as HelmError).stderr).toMatch(/values don't meet the specifications of the schema/);
    expect((failure as HelmError).stderr).toMatch(error);
  });

  it("ships the repository's crds/ as they are, from files of its own (no link: helm warns about links)", async () => {
    const chartCrds = join(CHART_DIR, 'crds');
    expect(lstatSync(chartCrds).isDirectory()).toBe(true);
    const { objects } = await renderChart(helm(), {}, { includeCrds: true });
    const shipped = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    const sources = topLevelCrds();
    expect(sources.length).toBeGreaterThanOrEqual(2);
    expect(shipped).toEqual(expect.arrayContaining(sources));
    expect(shipped).toHaveLength(sources.length);
    // Helm renders templates/ apart from crds/: nothing the chart templates is a CRD.
    expect((await renderChart(helm())).objects.some((o) => o.kind === 'CustomResourceDefinition')).toBe(
      false,
    );
  });

  it('lists every CRD it ships in its Artifact Hub annotation', () => {
    const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as {
      annotations: Record<string, string>;
    };
    const listed = (parse(chart.annotations['artifacthub.io/crds'] ?? '[]') as { name: string }[])
      .map((c) => c.name)
      .sort();
    const shipped = topLevelCrds()
      .map((c) => (c as { metadata: { name: string } }).metadata.name)
      .sort();
    expect(listed).toEqual(shipped);
  });

  it('packages the CRDs, so a chart repository serves them', async () => {
    const out = await mkdtemp(join(tmpdir(), 'peering-package-'));
    try {
      await runHelm(helm(), ['package', CHART_DIR, '--destination', out]);
      const archive = join(out, 'peering-operator-0.1.0.tgz');
      const { stdout } = await runHelm(
        helm(),
        ['template', 'peering', archive, '--include-crds'],
        withRequiredValues({}),
      );
      const packaged = parseManifests(stdout)
        .filter((o) => o.kind === 'CustomResourceDefinition')
        .map((o) => o.metadata.name);
      expect(packaged).toEqual(expect.arrayContaining(['peeringrequests.peering.autopeer.dev']));
      expect(packaged.sort()).toEqual(
        topLevelCrds()
          .map((crd) => crd.metadata.name)
          .sort(),
      );
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
  // Issue 16: with no values the chart used to install as AS64500 at peering.example.net.
  it('refuses `helm template` without values, naming each value that says who this network is', async () => {
    const failure = await runHelm(helm(), ['template', 'peering', CHART_DIR]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(HelmError);
    const { stderr } = failure as HelmError;
    expect(stderr).toMatch(/values don't meet the specifications of the schema/);
    expect(stderr).toMatch(/\/config\/asns\b/);
    expect(stderr).toMatch(/\/config\/apiUrl\b/);
    expect(stderr).toMatch(/\/config\/peeringdb\b/);
    expect(stderr).toMatch(/\/router\/driver\b/);
    // helm lint checks the same schema.
    await expect(runHelm(helm(), ['lint', CHART_DIR])).rejects.toThrow(/\/config\/asns/);
  });

  it.each(Object.keys(REQUIRED_CONFIG))('refuses values without config.%s, naming it alone', async (key) => {
    const config: Record<string, unknown> = { ...REQUIRED_CONFIG };
    delete config[key];
    const failure = await renderChart(helm(), { router: { driver: 'none' }, config }, { asGiven: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(HelmError);
    const named = [...(failure as HelmError).stderr.matchAll(/at '\/config\/(\w+)'/g)].map((m) => m[1]);
    expect(new Set(named)).toEqual(new Set([key]));
  });

  it('takes the PeeringDB source as exactly one of url and dataDir', async () => {
    const withSource = (peeringdb: unknown) => ({ config: { peeringdb } });
    const dumps = await renderChart(helm(), withSource({ dataDir: '/srv/peeringdb' }));
    expect(parseConfig(mountedConfig(dumps.objects)).peeringdb).toEqual({ dataDir: '/srv/peeringdb' });
    for (const peeringdb of [{}, { url: 'https://www.peeringdb.com/api', dataDir: '/srv/peeringdb' }]) {
      await expect(renderChart(helm(), withSource(peeringdb))).rejects.toThrow(/\/config\/peeringdb.*oneOf/);
    }
  });

  it('renders examples/gitops/operator/values.yaml as given, without --kube-version and without a warning', async () => {
    const { stdout, stderr } = await runHelm(helm(), [
      'template',
      'peering',
      CHART_DIR,
      '--values',
      join(REPO_ROOT, 'examples/gitops/operator/values.yaml'),
    ]);
    expect(stderr).toBe('');
    expect(parseConfig(mountedConfig(parseManifests(stdout)))).toMatchObject({
      asns: [64500],
      apiUrl: 'https://peering.example.net/v0.1',
    });
  });

  it('installs the values example of docs/operations.md as given', async () => {
    const guide = readFileSync(join(REPO_ROOT, 'docs/operations.md'), 'utf8');
    const block = /```yaml\n( *)# values-as64500\.yaml\n([\s\S]*?)\n *```/.exec(guide);
    if (block === null) throw new Error('docs/operations.md has no values-as64500.yaml example');
    const indent = new RegExp(`^${block[1] ?? ''}`, 'gm');
    const values = parse((block[2] ?? '').replace(indent, '')) as Record<string, unknown>;
    const { objects } = await renderChart(helm(), values, { asGiven: true });
    expect(parseConfig(mountedConfig(objects)).asns).toEqual([64500]);
  });

  // Issue 16: helm built without upstream's link-time Kubernetes version assumed 1.20, below the chart's floor.
  it('assumes, without a cluster, the Kubernetes version of the client-go helm was built with', async () => {
    const chart = await mkdtemp(join(tmpdir(), 'peering-kube-version-'));
    try {
      await mkdir(join(chart, 'templates'));
      await writeFile(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: probe\nversion: 0.1.0\n');
      await writeFile(
        join(chart, 'templates/version.yaml'),
        'kind: ConfigMap\napiVersion: v1\nmetadata: { name: probe }\ndata: { version: "{{ .Capabilities.KubeVersion.Version }}" }\n',
      );
      const { stdout } = await runHelm(helm(), ['template', 'probe', chart]);
      const version = (parseManifests(stdout)[0] as unknown as { data: { version: string } }).data.version;
      const [, major, minor] = /^v(\d+)\.(\d+)\./.exec(version) ?? [];
      expect([Number(major), Number(minor)]).toEqual([1, expect.any(Number)]);
      expect(Number(minor)).toBeGreaterThanOrEqual(28);
    } finally {
      await rm(chart, { recursive: true, force: true });
    }
  });
});

describe('chart metadata', () => {
  it("values.schema.json checks config with the program's own configuration schema", () => {
    const checkedIn = (checkedInValuesSchema().properties as Record<string, Record<string, unknown>>).config;
    const { description, ...generated } = checkedIn ?? {};
    expect(description).toEqual(expect.any(String));
    // On failure: npm run build && node dist/controller/test/packaging/values-schema.js && npx prettier --write charts
    expect(generated).toEqual(configValuesSchema());
  });

  it("the chart's appVersion is the package version, and the default config is the example's shape", () => {
    const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(chart.appVersion).toBe(pkg.version);
    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as {
      config: Record<string, unknown>;
    };
    expect(() => parseConfig({ ...values.config, ...REQUIRED_CONFIG }, 'values.yaml config')).not.toThrow();
  });

  it('has no default for who this network is: asns, apiUrl and peeringdb are null in values.yaml (issue 16)', () => {
    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as {
      config: Record<string, unknown>;
    };
    expect(Object.keys(REQUIRED_CONFIG).map((key) => [key, values.config[key]])).toEqual([
      ['asns', null],
      ['apiUrl', null],
      ['peeringdb', null],
    ]);
    const schema = checkedInValuesSchema() as { properties: { config: { required: string[] } } };
    expect(schema.properties.config.required).toEqual(expect.arrayContaining(Object.keys(REQUIRED_CONFIG)));
  });

  // generate-crds.js writes both; resources.test.ts checks the top-level ones against the schemas.
  it("the chart's crds/ holds the same files as the top-level crds/ (regenerate with generate-crds.js)", () => {
    const [top, chart] = CRD_DIRS.map((dir) => join(REPO_ROOT, dir)) as [string, string];
    expect(lstatSync(chart).isSymbolicLink()).toBe(false);
    const yaml = (dir: string) =>
      readdirSync(dir)
        .filter((file) => /\.ya?ml$/.test(file))
        .sort();
    expect(yaml(chart)).toEqual(yaml(top));
    for (const file of yaml(top)) {
      expect([
        file,
        readFileSync(join(chart, file), 'utf8') === readFileSync(join(top, file), 'utf8'),
      ]).toEqual([file, true]);
    }
  });
});
