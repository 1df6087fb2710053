import { stringify } from 'yaml';
import type { ValidSession } from './session-props.js';

// The one place where the Terraform props meet the operator's resources: field names, secret references and
// what a retired session becomes. Kept beside the constructs so that moving between Terraform and GitOps never
// means rewriting a peering by hand.

export const PEERING_API_VERSION = 'peering.autopeer.dev/v1alpha1';

/** A reference to a key of a Kubernetes Secret in the manifest's namespace. */
export interface SecretKeyRef {
  name: string;
  key: string;
}

/** Where the Kubernetes copies of the Terraform-side environment variables live. */
export interface ManifestOptions {
  /** `metadata.namespace` of every object; omitted when absent (kubectl's current namespace applies). */
  readonly namespace?: string;
  /**
   * The Secret holding the peer API's token and the session secrets, under the same keys as the environment
   * variables Terraform reads (`tokenEnv`, each `secretEnv`; `token` when no `tokenEnv`). Default:
   * `peering-as<peerAsn>`.
   */
  readonly secretName?: (peerAsn: number) => string;
}

export interface RequestedSessionManifest {
  location: string;
  localIp: string;
  peerIp: string;
  localBgpRole?: number;
  peerBgpRole?: number;
  sessionSecretRef?: SecretKeyRef;
}

/** A PeeringRequest object for the operator: one peer, explicit sessions, credentials by Secret reference. */
export interface PeeringRequestManifest {
  apiVersion: typeof PEERING_API_VERSION;
  kind: 'PeeringRequest';
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: {
    direction: 'Outbound';
    localAsn: number;
    peerAsn: number;
    peerApiUrl: string;
    credentials: { bearerTokenSecretRef: SecretKeyRef };
    sessions: RequestedSessionManifest[];
  };
}

export type PeeringManifest = PeeringRequestManifest;

/** The sessions a construct declares, with the name its manifest gets. */
export interface DeclaredRequest {
  /** A readable name; turned into a Kubernetes object name. */
  readonly name: string;
  /** All with the same localAsn, peerAsn and apiUrl. */
  readonly sessions: readonly ValidSession[];
}

/**
 * The operator's PeeringRequest for a set of sessions with one peer. Decommissioned sessions are left out: in
 * GitOps, removing a session from the list is what de-peers it (the operator's finalizer makes the call). A
 * request whose sessions are all decommissioned yields no object at all, never an empty list (which the operator
 * would read as "discover sessions").
 *
 * @example
 * peeringRequestManifest({ name: 'google', sessions: [session] }).spec.peerApiUrl;
 */
export function peeringRequestManifest(
  request: DeclaredRequest,
  options: ManifestOptions = {},
): PeeringRequestManifest | undefined {
  const active = request.sessions.filter((s) => !s.decommissioned);
  const first = active[0];
  if (first === undefined) return undefined;
  const secretName = (options.secretName ?? ((asn: number) => `peering-as${asn}`))(first.peerAsn);
  const metadata: PeeringRequestManifest['metadata'] = { name: kubernetesName(request.name) };
  if (options.namespace !== undefined) metadata.namespace = options.namespace;
  return {
    apiVersion: PEERING_API_VERSION,
    kind: 'PeeringRequest',
    metadata,
    spec: {
      direction: 'Outbound',
      localAsn: first.localAsn,
      peerAsn: first.peerAsn,
      peerApiUrl: first.apiUrl,
      credentials: { bearerTokenSecretRef: { name: secretName, key: first.tokenEnv ?? 'token' } },
      sessions: active.map((s) => {
        const out: RequestedSessionManifest = {
          location: s.location.id,
          localIp: s.localIp,
          peerIp: s.peerIp,
        };
        if (s.localBgpRole !== undefined) out.localBgpRole = s.localBgpRole;
        if (s.peerBgpRole !== undefined) out.peerBgpRole = s.peerBgpRole;
        if (s.secretEnv !== undefined) out.sessionSecretRef = { name: secretName, key: s.secretEnv };
        return out;
      }),
    },
  };
}

/** Manifests as one multi-document YAML stream, as `kubectl apply -f` and GitOps tools read it. */
export function manifestsToYaml(manifests: readonly PeeringManifest[]): string {
  return manifests.map((m) => stringify(m, { lineWidth: 0 })).join('---\n');
}

/** A Kubernetes object name (RFC 1123 subdomain) from a construct id or session name. */
export function kubernetesName(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253)
    .replace(/[^a-z0-9]+$/, '');
  return name === '' ? 'peering' : name;
}
