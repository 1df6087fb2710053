import { GROUP, VERSION, type KindNames } from '../../resources/api-group.js';
import type { Resource } from '../../resources/object.js';
import { isNotFound, ResourceGoneError } from '../errors.js';
import type {
  ListResult,
  ResourceCollection,
  Selection,
  WatchHandle,
  WatchHandlers,
} from '../resource-collection.js';
import { statusError, type KubeClient } from './client.js';

/** `labels` of a {@link Selection} as a Kubernetes label selector (`a=b,c in (d,e)`). */
export function labelSelector(labels: Selection['labels']): string | undefined {
  if (!labels) return undefined;
  const parts = Object.entries(labels).map(([key, value]) =>
    typeof value === 'string' ? `${key}=${value}` : `${key} in (${value.join(',')})`,
  );
  return parts.length === 0 ? undefined : parts.join(',');
}

/**
 * One kind of our custom resources on the Kubernetes API: lists page by page, watches with bookmarks, writes
 * with resourceVersion preconditions (PUT), status through the `/status` subresource.
 *
 * @example
 * const sessions = new KubeResourceCollection<PeeringSession>(kube, PEERING_SESSION);
 * const { items } = await sessions.list({ namespace: 'peering', labels: { [LABEL.peerAsn]: '64501' } });
 */
export class KubeResourceCollection<T extends Resource<unknown, unknown>> implements ResourceCollection<T> {
  constructor(
    private readonly kube: KubeClient,
    readonly names: KindNames,
    private readonly options: {
      pageSize?: number;
      watchTimeoutSeconds?: number;
      /**
       * Who writes, in managedFields (default `peering-operator`): a named manager, never the client's user agent,
       * so that a person's `kubectl apply --server-side` of a field we do not write (`spec.approved`) meets no
       * conflict, and a conflict that does happen names us.
       */
      fieldManager?: string;
    } = {},
  ) {}

  /** The same collection writing as another field manager (our API server: `peering-api`). */
  as(fieldManager: string): KubeResourceCollection<T> {
    return new KubeResourceCollection<T>(this.kube, this.names, { ...this.options, fieldManager });
  }

  private get manager(): { fieldManager: string } {
    return { fieldManager: this.options.fieldManager ?? 'peering-operator' };
  }

  private path(namespace: string | undefined, name?: string, status = false): string {
    const base =
      namespace === undefined || namespace === ''
        ? `/apis/${GROUP}/${VERSION}/${this.names.plural}`
        : `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${this.names.plural}`;
    if (name === undefined) return base;
    return `${base}/${encodeURIComponent(name)}${status ? '/status' : ''}`;
  }

  async get(namespace: string, name: string): Promise<T | undefined> {
    try {
      return withKind(await this.kube.request<T>('GET', this.path(namespace, name)), this.names.kind);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async list(selection: Selection = {}): Promise<ListResult<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.kube.request<{
        items: T[];
        metadata: { resourceVersion: string; continue?: string };
      }>('GET', this.path(selection.namespace), {
        query: {
          labelSelector: labelSelector(selection.labels),
          limit: String(this.options.pageSize ?? 500),
          continue: continueToken,
        },
      });
      for (const item of page.items) items.push(withKind(item, this.names.kind));
      resourceVersion = page.metadata.resourceVersion;
      continueToken = page.metadata.continue || undefined;
    } while (continueToken);
    return { items, resourceVersion };
  }

  watch(resourceVersion: string, handlers: WatchHandlers<T>, selection: Selection = {}): WatchHandle {
    // Spread the servers' watch timeouts so that many informers do not reconnect in lockstep.
    const timeout = this.options.watchTimeoutSeconds ?? 240 + Math.floor(Math.random() * 120);
    return this.kube.watch(
      this.path(selection.namespace),
      {
        resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(timeout),
        labelSelector: labelSelector(selection.labels),
      },
      (line) => {
        if (line.type === 'BOOKMARK') {
          const meta = line.object['metadata'] as { resourceVersion?: string } | undefined;
          if (meta?.resourceVersion) handlers.bookmark(meta.resourceVersion);
        } else if (line.type === 'ERROR') {
          const status = line.object as { code?: number; message?: string };
          handlers.error(
            status.code === 410
              ? new ResourceGoneError(status.message ?? 'resource version too old')
              : statusError(status.code ?? 500, status, `WATCH ${this.names.plural}`),
          );
        } else {
          handlers.event(line.type, withKind(line.object as unknown as T, this.names.kind));
        }
      },
      (error) => (error ? handlers.error(error) : handlers.closed()),
    );
  }

  async create(object: T): Promise<T> {
    return withKind(
      await this.kube.request<T>('POST', this.path(object.metadata.namespace), {
        body: object,
        query: this.manager,
      }),
      this.names.kind,
    );
  }

  async update(object: T): Promise<T> {
    return withKind(
      await this.kube.request<T>('PUT', this.path(object.metadata.namespace, object.metadata.name), {
        body: object,
        query: this.manager,
      }),
      this.names.kind,
    );
  }

  async updateStatus(object: T): Promise<T> {
    return withKind(
      await this.kube.request<T>('PUT', this.path(object.metadata.namespace, object.metadata.name, true), {
        body: object,
        query: this.manager,
      }),
      this.names.kind,
    );
  }

  /**
   * A JSON merge patch of the status (RFC 7396), with no resourceVersion precondition: for a writer that owns
   * only part of the status (a router agent's `routerReport`), so that it neither overwrites nor waits for the
   * parts others write. `fieldManager` names the writer in managedFields.
   */
  async patchStatus(
    namespace: string,
    name: string,
    status: Record<string, unknown>,
    fieldManager: string,
  ): Promise<T> {
    return withKind(
      await this.kube.request<T>('PATCH', this.path(namespace, name, true), {
        body: { status },
        contentType: 'application/merge-patch+json',
        query: { fieldManager },
      }),
      this.names.kind,
    );
  }

  /**
   * Server-side apply of part of the status, as `fieldManager`: the fields given become that manager's, and
   * list-maps (conditions, by type) merge entry by entry, so a writer owning one condition leaves the others
   * alone. `force`: the manager takes over fields another wrote last (the operator's mark on a lost agent).
   */
  async applyStatus(
    namespace: string,
    name: string,
    status: Record<string, unknown>,
    fieldManager: string,
  ): Promise<T> {
    return withKind(
      await this.kube.request<T>('PATCH', this.path(namespace, name, true), {
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: this.names.kind,
          metadata: { name, namespace },
          status,
        },
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager, force: 'true' },
      }),
      this.names.kind,
    );
  }

  async delete(namespace: string, name: string): Promise<boolean> {
    try {
      await this.kube.request('DELETE', this.path(namespace, name), {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
      });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}

/**
 * List items come without apiVersion/kind; the reconcilers' objects always carry them. `managedFields` is
 * dropped: nothing here reads it, and it is often the larger part of an object (client-go informers strip it
 * for the same reason: 10,000 cached sessions).
 */
function withKind<T extends Resource<unknown, unknown>>(item: T, kind: string): T {
  const metadata = item.metadata as T['metadata'] & { managedFields?: unknown };
  if (metadata.managedFields !== undefined) delete metadata.managedFields;
  if (item.kind) return item;
  return { ...item, apiVersion: `${GROUP}/${VERSION}` as T['apiVersion'], kind };
}
