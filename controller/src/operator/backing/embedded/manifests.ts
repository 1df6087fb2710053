import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { API_VERSION, LABEL } from '../../resources/api-group.js';
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
  constructor(
    private readonly dir: string,
    private readonly requests: ResourceCollection<PeeringRequest>,
    private readonly secrets: ManifestSecrets,
    private readonly defaultNamespace = 'default',
  ) {}

  async sync(): Promise<SyncReport> {
    const report: SyncReport = { applied: [], removed: [], problems: [] };
    const files = (await readdir(this.dir)).filter((f) => ['.yaml', '.yml'].includes(extname(f))).sort();
    const wanted = new Map<string, { file: string; object: PeeringRequest }>();
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
        if (object['apiVersion'] !== API_VERSION || object['kind'] !== 'PeeringRequest') {
          report.problems.push({
            file: where,
            message: `only ${API_VERSION} PeeringRequest and v1 Secret belong here, not ${String(object['apiVersion'])} ${String(object['kind'])}`,
          });
          continue;
        }
        if (!metadata.name) {
          report.problems.push({ file: where, message: 'metadata.name is required' });
          continue;
        }
        wanted.set(`${namespace}/${metadata.name}`, {
          file: where,
          object: {
            apiVersion: API_VERSION,
            kind: 'PeeringRequest',
            metadata: {
              ...(object['metadata'] as PeeringRequest['metadata']),
              namespace,
              name: metadata.name,
              labels: {
                ...((object['metadata'] as PeeringRequest['metadata']).labels ?? {}),
                [LABEL.manifest]: 'true',
              },
            },
            spec: object['spec'] as PeeringRequest['spec'],
          },
        });
      }
    }
    this.secrets.replace(secrets);

    for (const [key, { file, object }] of wanted) {
      try {
        const current = await this.requests.get(object.metadata.namespace, object.metadata.name);
        if (!current) {
          await this.requests.create(object);
          report.applied.push(key);
        } else if (
          JSON.stringify(current.spec) !== JSON.stringify(object.spec) ||
          JSON.stringify(current.metadata.labels) !== JSON.stringify(object.metadata.labels)
        ) {
          await this.requests.update({
            ...current,
            spec: object.spec,
            metadata: {
              ...current.metadata,
              labels: object.metadata.labels,
              annotations: object.metadata.annotations,
            },
          });
          report.applied.push(key);
        }
      } catch (error) {
        if (error instanceof ResourceInvalidError || isConflict(error)) {
          report.problems.push({ file, message: error.message });
        } else {
          throw error;
        }
      }
    }
    const { items } = await this.requests.list({ labels: { [LABEL.manifest]: 'true' } });
    for (const request of items) {
      const key = `${request.metadata.namespace}/${request.metadata.name}`;
      if (wanted.has(key) || request.metadata.deletionTimestamp) continue;
      await this.requests.delete(request.metadata.namespace, request.metadata.name);
      report.removed.push(key);
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
