import type { KindNames } from '../resources/api-group.js';
import type { Resource } from '../resources/object.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ListResult<T> {
  items: T[];
  /** The collection's version at the time of the list: a watch continues from here. */
  resourceVersion: string;
}

/** What a watch reports. `error` ends the watch; `closed` is a normal end (the server's timeout). */
export interface WatchHandlers<T> {
  event(type: WatchEventType, object: T): void;
  bookmark(resourceVersion: string): void;
  error(error: Error): void;
  closed(): void;
}

export interface WatchHandle {
  stop(): void;
}

/** Which objects: one namespace (or all when absent), with labels equal to these values (or in these lists). */
export interface Selection {
  namespace?: string | undefined;
  labels?: Record<string, string | readonly string[]> | undefined;
}

/**
 * One kind of our resources in some storage: the Kubernetes API in a cluster, SQLite when standalone. The
 * reconcilers know only this interface, so both backings run the same reconcilers.
 *
 * Semantics follow Kubernetes: `update` and `updateStatus` fail with {@link ResourceConflictError} when
 * `metadata.resourceVersion` is stale; `update` ignores the status and `updateStatus` everything but the status;
 * deleting an object with finalizers only sets `deletionTimestamp`, and the object goes when its last finalizer
 * is removed.
 */
export interface ResourceCollection<T extends Resource<unknown, unknown>> {
  readonly names: KindNames;
  get(namespace: string, name: string): Promise<T | undefined>;
  list(selection?: Selection): Promise<ListResult<T>>;
  /** Changes after `resourceVersion`; a version too old to continue from ends with {@link ResourceGoneError}. */
  watch(resourceVersion: string, handlers: WatchHandlers<T>, selection?: Selection): WatchHandle;
  create(object: T): Promise<T>;
  update(object: T): Promise<T>;
  updateStatus(object: T): Promise<T>;
  /** Returns false when the object was not there. */
  delete(namespace: string, name: string): Promise<boolean>;
}

/** Reads a key of a Secret (Kubernetes Secrets in a cluster, Secret manifests when standalone). */
export interface SecretReader {
  read(namespace: string, name: string, key: string): Promise<string>;
}
