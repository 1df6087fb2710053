import { stringify } from 'yaml';
import { API_VERSION, PEERING_REQUEST } from '../../controller/src/operator/resources/api-group.js';
import type { PeeringRequestSpecInput } from '../../controller/src/operator/resources/peering-request.js';
import type { SecretKeyReference } from '../../controller/src/operator/resources/session-fields.js';
import type { ValidSession } from './session-props.js';

// The one place where the Terraform props meet the operator's resources (controller/src/operator/resources):
// field names, secret references and what a retired session becomes. The props mirror the PeeringRequest spec
// field for field, except where Terraform must hold a NAME instead of a Kubernetes reference:
//
//   props (Terraform)              PeeringRequest spec (Kubernetes)
//   apiUrl                         peerApiUrl
//   tokenEnv (env var name)        credentials.bearerTokenSecretRef {name: <secret>, key: tokenEnv ?? 'token'}
//   sessions[i].secretEnv          sessions[i].sessionSecretRef {name: <secret>, key: secretEnv}
//   sessions[i].name               (Terraform only: part of the resource name)
//   sessions[i].decommissioned     (the session is left out: in GitOps, removal is what de-peers)
//   everything else                same name, same value

export const PEERING_API_VERSION = API_VERSION;

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

type RequestedSessionSpec = NonNullable<PeeringRequestSpecInput['sessions']>[number];

/** A PeeringRequest object for the operator: one peer, explicit sessions, credentials by Secret reference. */
export interface PeeringRequestManifest {
  apiVersion: typeof API_VERSION;
  kind: 'PeeringRequest';
  metadata: { name: string; namespace?: string };
  spec: PeeringRequestSpecInput & { sessions: RequestedSessionSpec[] };
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
 * The PeeringRequest spec for sessions with one peer (the first session gives the peer). Used to emit manifests
 * and, with every session included, to check props against the CRD's own schema and rules.
 */
export function requestSpec(
  sessions: readonly ValidSession[],
  options: ManifestOptions = {},
): PeeringRequestManifest['spec'] {
  const first = sessions[0];
  if (first === undefined) throw new RangeError('a PeeringRequest spec needs at least one session');
  const secretName = (options.secretName ?? ((asn: number) => `peering-as${asn}`))(first.peerAsn);
  const ref = (key: string): SecretKeyReference => ({ name: secretName, key });
  return {
    direction: 'Outbound',
    localAsn: first.localAsn,
    peerAsn: first.peerAsn,
    peerApiUrl: first.apiUrl,
    credentials: { bearerTokenSecretRef: ref(first.tokenEnv ?? 'token') },
    sessions: sessions.map((s) => {
      const out: RequestedSessionSpec = { location: s.location.id, localIp: s.localIp, peerIp: s.peerIp };
      if (s.localBgpRole !== undefined) out.localBgpRole = s.localBgpRole;
      if (s.peerBgpRole !== undefined) out.peerBgpRole = s.peerBgpRole;
      if (s.secretEnv !== undefined) out.sessionSecretRef = ref(s.secretEnv);
      return out;
    }),
  };
}

/** A path in the spec → the prop it came from (`peerApiUrl` → `apiUrl`, `sessions[0].sessionSecretRef` → `sessions[0].secretEnv`). */
export function propPathOfSpecPath(path: readonly PropertyKey[]): (string | number)[] {
  const [head, index, field] = path;
  if (head === 'peerApiUrl') return ['apiUrl'];
  if (head === 'credentials') return ['tokenEnv'];
  if (head === 'sessions' && typeof index === 'number' && field === 'sessionSecretRef') {
    return ['sessions', index, 'secretEnv'];
  }
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}

/**
 * The operator's PeeringRequest for a set of sessions with one peer. Decommissioned sessions are left out: in
 * GitOps, removing a session from the list is what de-peers it (the operator's finalizer makes the call). A
 * request whose sessions are all decommissioned yields no object at all, never an empty list.
 *
 * @example
 * peeringRequestManifest({ name: 'google', sessions: [session] })?.spec.peerApiUrl;
 */
export function peeringRequestManifest(
  request: DeclaredRequest,
  options: ManifestOptions = {},
): PeeringRequestManifest | undefined {
  const active = request.sessions.filter((s) => !s.decommissioned);
  if (active.length === 0) return undefined;
  const metadata: PeeringRequestManifest['metadata'] = { name: kubernetesName(request.name) };
  if (options.namespace !== undefined) metadata.namespace = options.namespace;
  return { apiVersion: API_VERSION, kind: 'PeeringRequest', metadata, spec: requestSpec(active, options) };
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
  return name === '' ? PEERING_REQUEST.singular : name;
}
