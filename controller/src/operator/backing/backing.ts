import type { KubeClient } from './kube/client.js';
import { KubeResourceCollection } from './kube/collection.js';
import { KubeEventRecorder } from './kube/events.js';
import { KubeLeaseStore } from './kube/leases.js';
import { KubeSecretReader } from './kube/secrets.js';
import { ManifestFolder, ManifestSecrets } from './embedded/manifests.js';
import { SqliteResourceStore } from './embedded/sqlite-resources.js';
import { PEERING_APPROVAL, PEERING_REQUEST, PEERING_SESSION, ROUTER } from '../resources/api-group.js';
import {
  APPROVAL_SPEC_RULES,
  PeeringApprovalSpecSchema,
  type PeeringApproval,
} from '../resources/peering-approval.js';
import type { Router } from '../resources/router.js';
import {
  PeeringRequestSpecSchema,
  REQUEST_SPEC_RULES,
  type PeeringRequest,
} from '../resources/peering-request.js';
import {
  PeeringSessionSpecSchema,
  SESSION_SPEC_RULES,
  type PeeringSession,
} from '../resources/peering-session.js';
import type { CrossFieldRule } from '../resources/rules.js';
import { MemoryEventRecorder, type EventRecorder } from '../runtime/events.js';
import type { LeaseStore } from '../runtime/leader-election.js';
import type { Logger } from '../runtime/logger.js';
import type { ResourceCollection, SecretReader } from './resource-collection.js';

/**
 * Where the operator's resources live: the Kubernetes API, or the embedded SQLite store when standalone. The
 * reconcilers see only this.
 */
export interface OperatorBacking {
  kind: 'kubernetes' | 'embedded';
  requests: ResourceCollection<PeeringRequest>;
  sessions: ResourceCollection<PeeringSession>;
  /** Routers, driven by router agents: Kubernetes only (standalone drives its router in-process). */
  routers?: ResourceCollection<Router> | undefined;
  /** People's approvals of inbound sessions. */
  approvals?: ResourceCollection<PeeringApproval> | undefined;
  secrets: SecretReader;
  events: EventRecorder;
  /** For leader election; absent when standalone (one process owns the SQLite file). */
  leases?: LeaseStore | undefined;
  /** The same requests and sessions written as our Peering API server (field manager `peering-api`). */
  asApiServer?: {
    requests: ResourceCollection<PeeringRequest>;
    sessions: ResourceCollection<PeeringSession>;
  };
  close(): Promise<void>;
}

/** The cluster backing, through a client authenticated as the operator's ServiceAccount. */
export function kubernetesBacking(
  kube: KubeClient,
  options: { leaseNamespace?: string; leaseName?: string; logger?: Logger } = {},
): OperatorBacking {
  const requests = new KubeResourceCollection<PeeringRequest>(kube, PEERING_REQUEST);
  const sessions = new KubeResourceCollection<PeeringSession>(kube, PEERING_SESSION);
  return {
    kind: 'kubernetes',
    requests,
    sessions,
    asApiServer: { requests: requests.as('peering-api'), sessions: sessions.as('peering-api') },
    routers: new KubeResourceCollection<Router>(kube, ROUTER),
    approvals: new KubeResourceCollection<PeeringApproval>(kube, PEERING_APPROVAL),
    secrets: new KubeSecretReader(kube),
    events: new KubeEventRecorder(kube, 'peering-operator', options.logger),
    leases:
      options.leaseNamespace === undefined
        ? undefined
        : new KubeLeaseStore(kube, options.leaseNamespace, options.leaseName ?? 'peering-operator'),
    close: () => kube.close(),
  };
}

export interface EmbeddedBacking extends OperatorBacking {
  store: SqliteResourceStore;
  /** The manifests folder, when one was given. */
  manifests: ManifestFolder | undefined;
  events: MemoryEventRecorder;
  secrets: ManifestSecrets;
}

/** The standalone backing: resources in SQLite under `dataDir`, PeeringRequests and Secrets from `manifestsDir`. */
export function embeddedBacking(dataDir: string, manifestsDir?: string): EmbeddedBacking {
  const store = new SqliteResourceStore(dataDir);
  const requests = store.collection<PeeringRequest>(PEERING_REQUEST, {
    spec: PeeringRequestSpecSchema,
    transitionRules: REQUEST_SPEC_RULES as CrossFieldRule<never>[],
  });
  const sessions = store.collection<PeeringSession>(PEERING_SESSION, {
    spec: PeeringSessionSpecSchema,
    transitionRules: SESSION_SPEC_RULES as CrossFieldRule<never>[],
  });
  const approvals = store.collection<PeeringApproval>(PEERING_APPROVAL, {
    spec: PeeringApprovalSpecSchema,
    transitionRules: APPROVAL_SPEC_RULES as CrossFieldRule<never>[],
  });
  const secrets = new ManifestSecrets();
  return {
    kind: 'embedded',
    store,
    requests,
    sessions,
    approvals,
    secrets,
    events: new MemoryEventRecorder(),
    manifests:
      manifestsDir === undefined
        ? undefined
        : new ManifestFolder(manifestsDir, requests, secrets, 'default', approvals),
    close: async () => store.close(),
  };
}
