import type { z } from 'zod';
import { API_VERSION } from './api-group.js';

/** The part of Kubernetes' `ObjectMeta` the operator reads and writes. */
export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
  generation?: number | undefined;
  creationTimestamp?: string | undefined;
  deletionTimestamp?: string | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
  finalizers?: string[] | undefined;
  ownerReferences?: OwnerReference[] | undefined;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean | undefined;
  blockOwnerDeletion?: boolean | undefined;
}

/** A custom resource of ours: spec written by people (or by the operator for owned objects), status by us. */
export interface Resource<Spec, Status> {
  apiVersion: typeof API_VERSION;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status | undefined;
}

/**
 * The constructor of one kind's objects, e.g. `peeringSession(namespace, name, spec, { labels })`.
 *
 * @example
 * export const peeringSession = resourceConstructor<PeeringSession>(PEERING_SESSION.kind);
 */
export function resourceConstructor<R extends Resource<unknown, unknown>>(kind: string) {
  return (namespace: string, name: string, spec: R['spec'], extra: Partial<ObjectMeta> = {}): R =>
    ({ apiVersion: API_VERSION, kind, metadata: { ...extra, namespace, name }, spec }) as R;
}

/** `namespace/name`: the work-queue key of an object. */
export function objectKey(meta: Pick<ObjectMeta, 'namespace' | 'name'>): string {
  return `${meta.namespace}/${meta.name}`;
}

export function hasFinalizer(meta: ObjectMeta, finalizer: string): boolean {
  return meta.finalizers?.includes(finalizer) ?? false;
}

/** A spec's first problem as a person reads it, `spec.<path>: <message>`: for conditions and refusals. */
export function firstSpecIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `spec.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
}

export function isDeleting(meta: ObjectMeta): boolean {
  return meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null;
}

/** The owner reference a PeeringRequest puts on the sessions it created. */
export function controllerReference(owner: Resource<unknown, unknown>): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}
