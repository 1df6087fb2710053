import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { API_VERSION, LABEL } from '../../resources/api-group.js';
import type { Resource } from '../../resources/object.js';
import type { PeeringApproval } from '../../resources/peering-approval.js';
import type { PeeringRequest } from '../../resources/peering-request.js';
import { isConflict, ResourceInvalidError, SecretMissingError } from '../errors.js';
import type { ResourceCollection, SecretReader } from '../resource-collection.js';

/** Secrets from Secret manifests, kept in memory only (never written to the SQLite file). */
export class ManifestSecrets implements SecretReader {
  private secrets = new Map<string, Record<string, string>>();

  replace(secrets: Map<string, Record<string, string>>): void {
    this.secrets = secrets;
  }

  async read(namespace: string, name: string, key: string): Promise<string> {
    const secret = this.secrets.get(`${namespace}/${name}`);
    if (!secret) throw new SecretMissingError(`Secret ${namespace}/${name} does not exist in the manifests`);
    const value = secret[key];
    if (value === undefined) throw new SecretMissingError(`Secret ${namespace}/${name} has no key "${key}"`);
    return value;
  }
}

export interface ManifestProblem {
  file: string;
  message: string;
}

export interface SyncReport {
  applied: string[];
  removed: string[];
  problems: ManifestProblem[];
}

type ManifestKind = 'PeeringRequest' | 'PeeringApproval';
type AnyResource = Resource<unknown, unknown>;

/** How a report names an object: requests as `namespace/name` (as always), other kinds with their kind first. */
function reportName(kind: ManifestKind, namespace: string, name: string): string {
  return kind === 'PeeringRequest' ? `${namespace}/${name}` : `${kind}/${namespace}/${name}`;
}

/**
 * Standalone mode's GitOps: the PeeringRequests and Secrets in a folder of YAML files are the desired state.
 * Each sync creates or updates what the files hold and deletes requests that came from a file and are no longer
 * in any (their sessions de-peer through the finalizers). A bad document is reported with its file and field
 * and skipped; the others still apply.
 *
 * @example
 * const manifests = new ManifestFolder('/etc/peering/manifests', requests, secrets);
 * const report = await manifests.sync();
 */
export class ManifestFolder {
  private readonly collections: Record<ManifestKind, ResourceCollection<AnyResource> | undefined>;

  constructor(
    private readonly dir: string,
    requests: ResourceCollection<PeeringRequest>,
    private readonly secrets: ManifestSecrets,
    private readonly defaultNamespace = 'default',
    approvals?: ResourceCollection<PeeringApproval>,
  ) {
    this.collections = {
      PeeringRequest: requests as unknown as ResourceCollection<AnyResource>,
      PeeringApproval: approvals as unknown as ResourceCollection<AnyResource> | undefined,
    };
  }

  async sync(): Promise<SyncReport> {
    const report: SyncReport = { applied: [], removed: [], problems: [] };
    const files = (await readdir(this.dir)).filter((f) => ['.yaml', '.yml'].includes(extname(f))).sort();
    // By kind, namespace and name.
    const wanted = new Map<string, { file: string; kind: ManifestKind; object: AnyResource }>();
    const secrets = new Map<string, Record<string, string>>();
    for (const file of files) {
      const text = await readFile(join(this.dir, file), 'utf8');
      for (const [index, document] of parseAllDocuments(text).entries()) {
        const where = `${file}#${index + 1}`;
        if (document.errors.length > 0) {
          report.problems.push({
            file: where,
            message: `not valid YAML: ${document.errors[0]?.message ?? ''}`,
          });
          continue;
        }
        const object = document.toJS() as Record<string, unknown> | null;
        if (object === null || object === undefined) continue;
        const metadata = (object['metadata'] ?? {}) as { name?: string; namespace?: string };
        const namespace = metadata.namespace ?? this.defaultNamespace;
        if (object['apiVersion'] === 'v1' && object['kind'] === 'Secret') {
          secrets.set(`${namespace}/${metadata.name}`, secretData(object));
          continue;
        }
        const kind = object['kind'] as ManifestKind;
        if (object['apiVersion'] !== API_VERSION || this.collections[kind] === undefined) {
          report.problems.push({
            file: where,
            message: `only ${API_VERSION} PeeringRequest and PeeringApproval and v1 Secret belong here, not ${String(object['apiVersion'])} ${String(object['kind'])}`,
          });
          continue;
        }
        if (!metadata.name) {
          report.problems.push({ file: where, message: 'metadata.name is required' });
          continue;
        }
        wanted.set(`${kind}/${namespace}/${metadata.name}`, {
          file: where,
          kind,
          object: {
            apiVersion: API_VERSION,
            kind,
            metadata: {
              ...(object['metadata'] as AnyResource['metadata']),
              namespace,
              name: metadata.name,
              labels: {
                ...((object['metadata'] as AnyResource['metadata']).labels ?? {}),
                [LABEL.manifest]: 'true',
              },
            },
            spec: object['spec'],
          },
        });
      }
    }
    this.secrets.replace(secrets);

    for (const { file, kind, object } of wanted.values()) {
      const collection = this.collections[kind] as ResourceCollection<AnyResource>;
      const name = reportName(kind, object.metadata.namespace, object.metadata.name);
      try {
        const current = await collection.get(object.metadata.namespace, object.metadata.name);
        if (!current) {
          await collection.create(object);
          report.applied.push(name);
        } else if (
          JSON.stringify(current.spec) !== JSON.stringify(object.spec) ||
          JSON.stringify(current.metadata.labels) !== JSON.stringify(object.metadata.labels)
        ) {
          await collection.update({
            ...current,
            spec: object.spec,
            metadata: {
              ...current.metadata,
              labels: object.metadata.labels,
              annotations: object.metadata.annotations,
            },
          });
          report.applied.push(name);
        }
      } catch (error) {
        if (error instanceof ResourceInvalidError || isConflict(error)) {
          report.problems.push({ file, message: error.message });
        } else {
          throw error;
        }
      }
    }
    for (const kind of ['PeeringRequest', 'PeeringApproval'] as const) {
      const collection = this.collections[kind];
      if (!collection) continue;
      const { items } = await collection.list({ labels: { [LABEL.manifest]: 'true' } });
      for (const item of items) {
        const { namespace, name } = item.metadata;
        if (wanted.has(`${kind}/${namespace}/${name}`) || item.metadata.deletionTimestamp) continue;
        await collection.delete(namespace, name);
        report.removed.push(reportName(kind, namespace, name));
      }
    }
    return report;
  }
}

function secretData(object: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries((object['data'] ?? {}) as Record<string, string>)) {
    out[key] = Buffer.from(String(value), 'base64').toString('utf8');
  }
  for (const [key, value] of Object.entries((object['stringData'] ?? {}) as Record<string, string>)) {
    out[key] = String(value);
  }
  return out;
}
