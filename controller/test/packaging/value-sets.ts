/** Value sets the chart is rendered with by the tests (lint, template, server-side dry run). */

/** Every optional part on, cluster-wide, with credentials: the widest rendering. */
export const ALL_ON: Record<string, unknown> = {
  rbac: { clusterWide: true },
  finalizerPolicy: true,
  // A BIRD sidecar sharing its control socket and include folder with the operator.
  router: { driver: 'bird' },
  extraVolumes: [{ name: 'bird-run', emptyDir: {} }],
  extraVolumeMounts: [{ name: 'bird-run', mountPath: '/run/bird' }],
  extraContainers: [
    {
      name: 'bird',
      image: 'registry.example.net/bird:2.17',
      volumeMounts: [{ name: 'bird-run', mountPath: '/run/bird' }],
    },
  ],
  ingress: {
    enabled: true,
    className: 'nginx',
    hosts: [{ host: 'peering.example.net' }],
    tls: [{ secretName: 'peering-example-net-tls', hosts: ['peering.example.net'] }],
  },
  serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
  networkPolicy: {
    enabled: true,
    ingressFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
  },
  credentials: {
    peeringdbApiKey: { secretName: 'peeringdb', key: 'api-key' },
    extraSecretEnv: [{ name: 'PEERING_TOKEN_AS64501', secretName: 'peering-static-tokens', key: 'as64501' }],
  },
  config: {
    asns: [64500],
    apiUrl: 'https://peering.example.net/v0.1',
    peeringdb: { url: 'https://www.peeringdb.com/api' },
    auth: {
      issuers: [{ kind: 'jwt', issuer: 'https://id.example.net' }],
      staticTokens: [
        { tokenEnv: 'PEERING_TOKEN_AS64501', subject: 'as64501', networks: [{ asn: 64501, perms: 15 }] },
      ],
    },
  },
};

/** Routers driven by router agents, one of each agent mode (issue 15). */
export const ROUTER_AGENTS: Record<string, unknown> = {
  router: {
    driver: 'agents',
    routers: [
      {
        name: 'edge1',
        driver: 'bird',
        addresses: ['192.0.2.10', '2001:db8:1::/64'],
        locations: ['pdb:ix:26'],
        timers: { hold: 90, keepalive: 30 },
        agent: { mode: 'host', nodeSelector: { 'kubernetes.io/hostname': 'edge1' } },
      },
      {
        name: 'edge2',
        driver: 'bird',
        addresses: ['192.0.2.11'],
        agent: { mode: 'sidecar', sidecar: { image: 'registry.example.net/bird:2.17' } },
      },
      { name: 'edge3', driver: 'bird', addresses: ['192.0.2.12'] },
    ],
  },
};
