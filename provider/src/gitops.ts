import type { IConstruct } from 'constructs';
import { manifestsToYaml, type ManifestOptions, type PeeringManifest } from './manifests.js';
import { PeeringRequest } from './peering-request.js';
import { PeeringSession } from './peering-session.js';

/**
 * Every peering declared under `scope` (an app, a stack or any construct) as the operator's resources: one
 * PeeringRequest per `PeeringRequest` construct, and one per stand-alone `PeeringSession`. This is the way from
 * Terraform to GitOps: commit the YAML and let the operator take the sessions over (requests are idempotent by
 * natural key, so it gets the sessions Terraform made, not new ones), then hand them over on the Terraform side
 * with `RetiredPeeringSession` and `handOver: true`, which forgets them without de-peering (docs/terraform.md).
 *
 * @example
 * writeFileSync('peering.yaml', peeringManifestsYaml(app, { namespace: 'peering' }));
 */
export function peeringManifests(scope: IConstruct, options: ManifestOptions = {}): PeeringManifest[] {
  const out: PeeringManifest[] = [];
  for (const construct of scope.node.findAll()) {
    if (construct instanceof PeeringRequest) out.push(...construct.toManifests(options));
    else if (construct instanceof PeeringSession && !(construct.node.scope instanceof PeeringRequest)) {
      out.push(...construct.toManifests(options));
    }
  }
  return out;
}

/** `peeringManifests` as one multi-document YAML stream. */
export function peeringManifestsYaml(scope: IConstruct, options: ManifestOptions = {}): string {
  return manifestsToYaml(peeringManifests(scope, options));
}
