import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ResourceStoreError } from '../../operator/backing/errors.js';
import { KubeClient } from '../../operator/backing/kube/client.js';
import { KubeResourceCollection } from '../../operator/backing/kube/collection.js';
import { loadKubeCredentials } from '../../operator/backing/kube/kubeconfig.js';
import {
  API_VERSION,
  GROUP,
  LABEL,
  PEERING_REQUEST,
  PEERING_SESSION,
  VERSION,
  type KindNames,
} from '../../operator/resources/api-group.js';
import type { PeeringRequest } from '../../operator/resources/peering-request.js';
import type { PeeringSession } from '../../operator/resources/peering-session.js';
import type { KubeEvent, RequestSnapshot, SessionSnapshot } from './describe-render.js';
import { EXIT, UsageError } from './exit-codes.js';

/**
 * `peeringctl describe`, the I/O half: finds the cluster the way kubectl does, reads a PeeringRequest or
 * PeeringSession, the request's sessions and the Events of all of them. Nothing here decides what to print.
 */

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** A failure reading the cluster, with the exit code of peeringctl's catalog (`peeringctl --help`) it ends with. */
export class ClusterReadError extends Error {
  override readonly name = 'ClusterReadError';
  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Where the cluster's credentials come from, decided from flags and environment. */
export type ClusterSource = { kind: 'kubeconfig'; path: string } | { kind: 'in-cluster' };

/**
 * kubectl's order: `--kubeconfig`, then `$KUBECONFIG` (the first file of the list that exists), then the pod's
 * ServiceAccount when running in a cluster, then `~/.kube/config`.
 */
export function clusterSource(
  kubeconfig: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): ClusterSource {
  if (kubeconfig !== undefined) return { kind: 'kubeconfig', path: kubeconfig };
  const listed = (env['KUBECONFIG'] ?? '').split(delimiter).filter((p) => p !== '');
  if (listed.length > 0) return { kind: 'kubeconfig', path: listed.find((p) => existsSync(p)) ?? listed[0]! };
  if (env['KUBERNETES_SERVICE_HOST']) return { kind: 'in-cluster' };
  const fallback = join(home, '.kube', 'config');
  if (existsSync(fallback)) return { kind: 'kubeconfig', path: fallback };
  throw new UsageError(
    'no cluster to read from: give --kubeconfig <file>, set KUBECONFIG, or run inside a cluster',
  );
}

/** The namespace when `-n` is not given: the kubeconfig context's, the pod's own in a cluster, else `default`. */
export function defaultNamespace(source: ClusterSource): string {
  try {
    if (source.kind === 'in-cluster')
      return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || 'default';
    const file = parseYaml(readFileSync(source.path, 'utf8')) as {
      'current-context'?: string;
      contexts?: { name?: string; context?: { namespace?: string } }[];
    } | null;
    const context = file?.contexts?.find((c) => c.name === file['current-context']);
    return context?.context?.namespace || 'default';
  } catch {
    // An unreadable kubeconfig is reported by loadKubeCredentials, with its path and the reason.
    return 'default';
  }
}

/** A client of the cluster; close it when done. */
export async function connectCluster(source: ClusterSource, timeoutMs: number): Promise<KubeClient> {
  const credentials = await loadKubeCredentials(source.kind === 'kubeconfig' ? source.path : undefined);
  return KubeClient.connect(credentials, { connections: 4, timeoutMs });
}

/** Up to this many sessions, their Events are asked for one session at a time; above, in one namespace list. */
const PER_SESSION_EVENT_QUERIES = 16;

/**
 * A PeeringRequest, the PeeringSessions labelled with its name (and owned by it, where they say an owner), and
 * the Events of all of them.
 */
export async function readRequest(
  kube: KubeClient,
  namespace: string,
  name: string,
): Promise<RequestSnapshot> {
  const request = await readObject<PeeringRequest>(kube, PEERING_REQUEST, namespace, name);
  const sessions = await clusterCall(namespace, () =>
    new KubeResourceCollection<PeeringSession>(kube, PEERING_SESSION).list({
      namespace,
      // The label holds the name cut to 63 characters; the owner reference tells two such requests apart.
      labels: { [LABEL.request]: name.slice(0, 63) },
    }),
  );
  const owned = sessions.items.filter((s) => {
    const owner = s.metadata.ownerReferences?.find((o) => o.kind === PEERING_REQUEST.kind && o.controller);
    return owner === undefined || owner.name === name;
  });
  const { events, eventsError } = await readEvents(kube, namespace, async () => {
    const ofRequest = await listEvents(kube, namespace, PEERING_REQUEST.kind, name);
    if (owned.length > PER_SESSION_EVENT_QUERIES) {
      const names = new Set(owned.map((s) => s.metadata.name));
      const all = await listEvents(kube, namespace, PEERING_SESSION.kind);
      return [...ofRequest, ...all.filter((e) => names.has(e.involvedObject.name ?? ''))];
    }
    const ofSessions = await Promise.all(
      owned.map((s) => listEvents(kube, namespace, PEERING_SESSION.kind, s.metadata.name)),
    );
    return [...ofRequest, ...ofSessions.flat()];
  });
  return { request, sessions: owned, events, eventsError };
}

/** A PeeringSession and its Events. */
export async function readSession(
  kube: KubeClient,
  namespace: string,
  name: string,
): Promise<SessionSnapshot> {
  const session = await readObject<PeeringSession>(kube, PEERING_SESSION, namespace, name);
  const { events, eventsError } = await readEvents(kube, namespace, () =>
    listEvents(kube, namespace, PEERING_SESSION.kind, name),
  );
  return { session, events, eventsError };
}

async function readObject<T>(
  kube: KubeClient,
  names: KindNames,
  namespace: string,
  name: string,
): Promise<T> {
  const collection = new KubeResourceCollection<PeeringRequest | PeeringSession>(kube, names);
  let object: PeeringRequest | PeeringSession | undefined;
  try {
    object = await collection.get(namespace, name);
  } catch (error) {
    // A cluster without our CRDs answers their paths with a plain-text 404, which reads as a broken answer.
    if (!(await clusterCall(namespace, () => serves(kube, names)))) throw notServed(kube, names);
    throw asClusterError(error, namespace);
  }
  if (object !== undefined) return object as T;
  if (!(await clusterCall(namespace, () => serves(kube, names)))) throw notServed(kube, names);
  throw new ClusterReadError(
    `${names.singular} "${name}" not found in namespace "${namespace}" (cluster ${kube.server})`,
    EXIT.notFound,
  );
}

/** Whether the cluster serves the kind: API discovery, which always answers JSON. */
async function serves(kube: KubeClient, names: KindNames): Promise<boolean> {
  const groups = await kube.request<{ groups?: { name: string; versions?: { version: string }[] }[] }>(
    'GET',
    '/apis',
  );
  const group = groups.groups?.find((g) => g.name === GROUP);
  if (!group?.versions?.some((v) => v.version === VERSION)) return false;
  const resources = await kube.request<{ resources?: { name: string }[] }>(
    'GET',
    `/apis/${GROUP}/${VERSION}`,
  );
  return resources.resources?.some((r) => r.name === names.plural) ?? false;
}

function notServed(kube: KubeClient, names: KindNames): ClusterReadError {
  return new ClusterReadError(
    `the cluster at ${kube.server} serves no ${names.plural}.${GROUP} (${API_VERSION}): are the CRDs installed?`,
    EXIT.notFound,
  );
}

/** Events are context: when they cannot be read (RBAC), the description says so instead of failing. */
async function readEvents(
  kube: KubeClient,
  namespace: string,
  read: () => Promise<KubeEvent[]>,
): Promise<{ events: KubeEvent[]; eventsError?: string }> {
  try {
    return { events: await read() };
  } catch (error) {
    if (error instanceof ResourceStoreError && (error.status === 401 || error.status === 403)) {
      return { events: [], eventsError: `${error.message} (needs list events in namespace ${namespace})` };
    }
    throw asClusterError(error, namespace);
  }
}

/** core/v1 Events about objects of `kind` (named `name`, when given), every page. */
async function listEvents(
  kube: KubeClient,
  namespace: string,
  kind: string,
  name?: string,
): Promise<KubeEvent[]> {
  const events: KubeEvent[] = [];
  const fieldSelector = [
    `involvedObject.apiVersion=${API_VERSION}`,
    `involvedObject.kind=${kind}`,
    ...(name === undefined ? [] : [`involvedObject.name=${name}`]),
  ].join(',');
  let continueToken: string | undefined;
  do {
    const page = await kube.request<{ items: KubeEvent[]; metadata: { continue?: string } }>(
      'GET',
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
      { query: { fieldSelector, limit: '500', continue: continueToken } },
    );
    events.push(...page.items);
    continueToken = page.metadata.continue || undefined;
  } while (continueToken);
  return events;
}

async function clusterCall<T>(namespace: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asClusterError(error, namespace);
  }
}

/** The cluster's answer → the exit code a script branches on: 5 for 401/403, 1 for anything else. */
function asClusterError(error: unknown, namespace: string): Error {
  if (error instanceof ClusterReadError || !(error instanceof ResourceStoreError)) return error as Error;
  if (error.status === 401) {
    return new ClusterReadError(`the cluster does not accept the credentials: ${error.message}`, EXIT.auth, {
      cause: error,
    });
  }
  if (error.status === 403) {
    return new ClusterReadError(
      `not allowed in namespace ${namespace}: ${error.message} ` +
        '(describe needs get peeringrequests/peeringsessions, list peeringsessions and list events)',
      EXIT.auth,
      { cause: error },
    );
  }
  return new ClusterReadError(`the cluster could not be read: ${error.message}`, EXIT.failure, {
    cause: error,
  });
}
