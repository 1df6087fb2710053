import { GROUP, PEERING_REQUEST, PEERING_SESSION } from '../resources/api-group.js';

/** A Kubernetes RBAC PolicyRule. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/**
 * Everything the operator may do, and nothing more: THE one source of its permissions. The Helm chart renders
 * its Role/ClusterRole from these rules (`operatorRbac()`), and the operator's tests run as a ServiceAccount
 * bound to exactly them, so a missing permission fails a test rather than a deployment.
 */
export const OPERATOR_RULES: PolicyRule[] = [
  {
    // Reconcile both kinds; the API server (inbound) creates and deletes them.
    apiGroups: [GROUP],
    resources: [PEERING_REQUEST.plural, PEERING_SESSION.plural],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
  },
  {
    apiGroups: [GROUP],
    resources: [`${PEERING_REQUEST.plural}/status`, `${PEERING_SESSION.plural}/status`],
    verbs: ['get', 'update'],
  },
  {
    // Owner references with blockOwnerDeletion need update on the owner's finalizers subresource.
    apiGroups: [GROUP],
    resources: [`${PEERING_REQUEST.plural}/finalizers`, `${PEERING_SESSION.plural}/finalizers`],
    verbs: ['update'],
  },
  {
    // Bearer tokens for peers' APIs and BGP session secrets, by reference only: read, never list.
    apiGroups: [''],
    resources: ['secrets'],
    verbs: ['get'],
  },
  {
    apiGroups: [''],
    resources: ['events'],
    verbs: ['create', 'patch'],
  },
  {
    // Leader election.
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['get', 'create', 'update'],
  },
];

export interface RbacOptions {
  namespace: string;
  serviceAccount?: string;
  /** `namespace`: a Role and RoleBinding (the operator watches its own namespace); `cluster`: all namespaces. */
  scope?: 'namespace' | 'cluster';
  name?: string;
}

/**
 * The ServiceAccount, Role (or ClusterRole) and binding that give the operator its rules.
 *
 * @example
 * for (const object of operatorRbac({ namespace: 'peering' })) await kubectlApply(object);
 */
export function operatorRbac(options: RbacOptions): Record<string, unknown>[] {
  const serviceAccount = options.serviceAccount ?? 'peering-operator';
  const name = options.name ?? 'peering-operator';
  const labels = { 'app.kubernetes.io/name': 'peering-operator' };
  const subject = { kind: 'ServiceAccount', name: serviceAccount, namespace: options.namespace };
  const account = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: serviceAccount, namespace: options.namespace, labels },
  };
  if (options.scope === 'cluster') {
    return [
      account,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name, labels },
        rules: OPERATOR_RULES,
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [subject],
      },
    ];
  }
  return [
    account,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace: options.namespace, labels },
      rules: OPERATOR_RULES,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace: options.namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [subject],
    },
  ];
}
