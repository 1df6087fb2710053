import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../support/sample.js';

/** The chart's rules file: THE one source of the operator's permissions (the chart renders its Roles from it). */
export const RBAC_RULES_FILE = join(REPO_ROOT, 'charts', 'peering-operator', 'files', 'rbac-rules.yaml');

interface RulesFile {
  operator: Record<string, unknown>[];
  leaderElection: Record<string, unknown>[];
  routerAgent: Record<string, unknown>[];
}

/**
 * The ServiceAccount, Roles and RoleBindings the chart creates for a release in `namespace` (rbac.clusterWide
 * false, leader election on), built from the chart's own rules file, so tests run the operator with exactly the
 * permissions a deployment gets.
 */
export function chartRbac(namespace: string, serviceAccount = 'peering-operator'): Record<string, unknown>[] {
  const rules = parse(readFileSync(RBAC_RULES_FILE, 'utf8')) as RulesFile;
  const subject = { kind: 'ServiceAccount', name: serviceAccount, namespace };
  const role = (name: string, ruleList: Record<string, unknown>[]) => [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace },
      rules: ruleList,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [subject],
    },
  ];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace } },
    ...role('peering-operator', rules.operator),
    ...role('peering-operator-leader-election', rules.leaderElection),
  ];
}

/** The ServiceAccount, Role and RoleBinding of a router agent in `namespace`, from the chart's rules file. */
export function routerAgentRbac(
  namespace: string,
  serviceAccount = 'peering-router-agent',
): Record<string, unknown>[] {
  const rules = parse(readFileSync(RBAC_RULES_FILE, 'utf8')) as RulesFile;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: serviceAccount, namespace },
      rules: rules.routerAgent,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: serviceAccount, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: serviceAccount },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
    },
  ];
}
