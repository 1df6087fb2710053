import { isNotFound } from '../errors.js';
import type { LeaseRecord, LeaseStore } from '../../runtime/leader-election.js';
import type { KubeClient } from './client.js';

interface LeaseObject {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: Omit<LeaseRecord, 'resourceVersion'>;
}

/** The leader-election Lease (`coordination.k8s.io/v1`) of one namespace and name. */
export class KubeLeaseStore implements LeaseStore {
  constructor(
    private readonly kube: KubeClient,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  private path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.namespace)}/leases`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  async get(): Promise<LeaseRecord | undefined> {
    try {
      return toRecord(await this.kube.request<LeaseObject>('GET', this.path(this.name)));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async create(record: LeaseRecord): Promise<LeaseRecord> {
    return toRecord(await this.kube.request<LeaseObject>('POST', this.path(), { body: this.object(record) }));
  }

  async update(record: LeaseRecord): Promise<LeaseRecord> {
    return toRecord(
      await this.kube.request<LeaseObject>('PUT', this.path(this.name), { body: this.object(record) }),
    );
  }

  private object(record: LeaseRecord): LeaseObject {
    const { resourceVersion, ...spec } = record;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      spec,
    };
  }
}

function toRecord(lease: LeaseObject): LeaseRecord {
  return { ...lease.spec, resourceVersion: lease.metadata.resourceVersion };
}
