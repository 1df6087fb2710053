/**
 * CDK for Terraform constructs for the Peering API: declare BGP sessions with other networks in a CDKTF app,
 * see them in `terraform plan`, and move them to the Kubernetes operator as YAML when the time comes.
 *
 * @example
 * import { PeeringRequest } from 'peering-operator/provider';
 * new PeeringRequest(stack, 'google', { localAsn: 13335, peerAsn: 15169, apiUrl, sessions: [...] });
 */
export { PeeringSession } from './peering-session.js';
export { PeeringRequest } from './peering-request.js';
export { RetiredPeeringSession, type RetiredPeeringSessionProps } from './retired-peering-session.js';
export { TerraformData, type TerraformDataConfig } from './terraform-data.js';
export {
  PeeringProvider,
  PeeringSessionResource,
  PEERING_PROVIDER_SOURCE,
  PEERING_PROVIDER_VERSION,
  type PeeringProviderConfig,
  type PeeringSessionResourceConfig,
} from './peering-provider.js';
export { peeringManifests, peeringManifestsYaml } from './gitops.js';
export {
  manifestsToYaml,
  peeringRequestManifest,
  PEERING_API_VERSION,
  type ManifestOptions,
  type PeeringManifest,
  type PeeringRequestManifest,
} from './manifests.js';
export { sessionResourceName, sessionResourceAddress } from './session-backing.js';
export { resolvePeeringctl, defaultPeeringctlScript } from './peeringctl-command.js';
export type {
  PeeringSessionProps,
  PeeringRequestProps,
  RequestedSessionProps,
  SessionBacking,
  WaitableStatus,
  SessionTermsProps,
  PeerProps,
  RunnerProps,
  ValidSession,
} from './session-props.js';
