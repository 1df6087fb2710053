import { existsSync } from 'node:fs';
import { Annotations, TerraformStack, type TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { PeeringError } from '../../controller/src/domain/errors.js';
import { naturalKey } from '../../controller/src/domain/session.js';
import {
  manifestsToYaml,
  peeringRequestManifest,
  type ManifestOptions,
  type PeeringManifest,
} from './manifests.js';
import { defaultPeeringctlScript, resolvePeeringctl } from './peeringctl-command.js';
import { backSession, sessionResourceAddress, sessionResourceName } from './session-backing.js';
import {
  validateSessionName,
  validateSessionProps,
  type PeeringSessionProps,
  type ValidSession,
} from './session-props.js';

/**
 * One BGP session with one peer, requested through the peer's Peering API when Terraform creates it and
 * de-peered when Terraform destroys it, or when it leaves the code.
 *
 * Props are checked at synth time with the Peering API's own schema: a bad prop fails `cdktf synth` with the
 * construct path and the field. The session is one `peering_session` of our provider (peering-operator/peering):
 * refresh reads it at the peer (a session gone there plans as created again), every term forces a replacement,
 * and it can be imported. For users who cannot install a provider, `backing: 'terraform_data'` (or
 * `null_resource`) keeps the identity in `triggers_replace` and runs `peeringctl request` / `peeringctl delete`
 * as create- and destroy-time commands, with the hazards docs/terraform.md lists.
 *
 * @example
 * new PeeringSession(stack, 'google-ams-ix-v4', {
 *   localAsn: 13335,
 *   peerAsn: 15169,
 *   apiUrl: 'https://peering.google.example/v0.1',
 *   location: 'pdb:ix:26',
 *   localIp: '80.249.211.140',
 *   peerIp: '80.249.208.247',
 *   secretEnv: 'BGP_SECRET_GOOGLE_AMS',
 * });
 */
export class PeeringSession extends Construct {
  /** The validated session: canonical addresses, location object, defaults applied. */
  readonly session: ValidSession;
  /** The stable handle of the session inside its stack (the construct id, or the request's session name). */
  readonly sessionName: string;
  /** The Terraform resource name, from the natural key and the session name. */
  readonly resourceName: string;
  /** The backing resource (`peering_session`, `terraform_data` or `null_resource`). */
  readonly resource: TerraformResource;

  /**
   * @param options.sessionName - the session's name in its resource name when it is not the construct id (a
   *   `PeeringRequest` passes each session's `name`)
   */
  constructor(
    scope: Construct,
    id: string,
    props: PeeringSessionProps,
    options: { sessionName?: string } = {},
  ) {
    super(scope, id);
    const where = `PeeringSession "${this.node.path}"`;
    this.sessionName = validateSessionName(options.sessionName ?? id, where);
    this.session = validateSessionProps(props, where);
    this.resourceName = sessionResourceName(this.session, this.sessionName);
    claimSession(this, this.session, this.resourceName);
    // Only the peeringctl backings run a command; our provider talks to the peer itself.
    const peeringctl =
      this.session.backing === 'peering_session' ? [] : resolvePeeringctl(this.session.peeringctl);
    if (peeringctl.length > 0) warnWhenPeeringctlMissing(this, peeringctl);
    this.resource = backSession(this, this.session, this.resourceName, peeringctl);
  }

  /** `peering_session.<resourceName>` (or the peeringctl backing's): for `terraform state`, `import`, `removed`. */
  get resourceAddress(): string {
    return sessionResourceAddress(this.session.backing, this.resourceName);
  }

  /** The same peering as Kubernetes resources for the operator (a one-session PeeringRequest). */
  toManifests(options: ManifestOptions = {}): PeeringManifest[] {
    const manifest = peeringRequestManifest({ name: this.sessionName, sessions: [this.session] }, options);
    return manifest === undefined ? [] : [manifest];
  }

  /** `toManifests()` as a multi-document YAML stream. */
  toYaml(options: ManifestOptions = {}): string {
    return manifestsToYaml(this.toManifests(options));
  }
}

interface StackClaims {
  names: Map<string, string>;
  keys: Map<string, string>;
  warned: boolean;
}

const claims = new WeakMap<TerraformStack, StackClaims>();

function claimsOf(construct: Construct): StackClaims {
  const stack = TerraformStack.of(construct);
  let entry = claims.get(stack);
  if (entry === undefined) {
    entry = { names: new Map(), keys: new Map(), warned: false };
    claims.set(stack, entry);
  }
  return entry;
}

// Two resources for one session would each run a de-peer: destroying either would take the other's session
// down with it. Refused at synth time, also for decommissioned sessions.
function claimSession(construct: Construct, session: ValidSession, resourceName: string): void {
  const stack = claimsOf(construct);
  const path = construct.node.path;
  const key = `${session.localAsn}|${naturalKey(session)}`;
  const sameKey = stack.keys.get(key);
  if (sameKey !== undefined) {
    throw new PeeringError(
      'INVALID_FIELD',
      `PeeringSession "${path}" declares the same session as "${sameKey}" (AS${session.localAsn} and ` +
        `AS${session.peerAsn} at ${session.location.id}, ${session.localIp} - ${session.peerIp}); declare each session once`,
      'peerIp',
    );
  }
  const sameName = stack.names.get(resourceName);
  if (sameName !== undefined) {
    throw new PeeringError(
      'INVALID_FIELD',
      `PeeringSession "${path}" and "${sameName}" both map to the Terraform resource ${resourceName}; ` +
        'give the sessions distinct names',
      'name',
    );
  }
  stack.keys.set(key, path);
  stack.names.set(resourceName, path);
}

function warnWhenPeeringctlMissing(construct: Construct, peeringctl: readonly string[]): void {
  const stack = claimsOf(construct);
  if (stack.warned) return;
  stack.warned = true;
  const script = defaultPeeringctlScript();
  if (peeringctl[1] === script && !existsSync(script)) {
    Annotations.of(construct).addWarning(
      `${script} does not exist: run \`npm run build\` before \`terraform apply\`, or set the peeringctl prop ` +
        'or $PEERINGCTL to the peeringctl command',
    );
  }
}
