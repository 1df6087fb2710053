import { TerraformElement } from 'cdktf';
import type { Construct } from 'constructs';
import { PeeringError } from '../../controller/src/domain/errors.js';
import { resolvePeeringctl, sessionProvisioners } from './peeringctl-command.js';
import { sessionResourceAddress, sessionResourceName } from './session-backing.js';
import { validateSessionName, validateSessionProps, type PeeringSessionProps } from './session-props.js';

/**
 * What a `removed` block needs to find a session's resource: the parts of the natural key that name it (the
 * addresses are read from state). Any other `PeeringSession` prop may be left in place and is ignored, so that
 * retiring a session is a one-word change: `new PeeringSession(` → `new RetiredPeeringSession(`.
 */
export type RetiredPeeringSessionProps = Pick<PeeringSessionProps, 'localAsn' | 'peerAsn' | 'location'> &
  Partial<PeeringSessionProps>;

/**
 * A session taken out of the code: emits a Terraform `removed` block (Terraform ≥ 1.9). With our provider
 * (`peering_session`, the default) deleting a `PeeringSession` from the code de-peers it anyway; this construct is
 * for `handOver` (forget it without de-peering). With the peeringctl backings it is what de-peers: `destroy =
 * true` with the same destroy-time `peeringctl delete`, reading every value from the state of the removed
 * resource, because deleting such a `PeeringSession` from the code drops it from state WITHOUT running its
 * de-peer command.
 *
 * Use the id (or `sessionName`) the session had; once `terraform apply` has run, delete this construct too.
 * `decommissioned: true` on the session does the same without a second construct type, and also works with
 * `cdktf synth --hcl` (cdktf 0.21 cannot render `removed` blocks as HCL, so this construct refuses HCL).
 *
 * @example
 * // was: new PeeringSession(stack, 'google-ams-ix-v4', { localAsn: 13335, peerAsn: 15169, location: 'pdb:ix:26', ... })
 * new RetiredPeeringSession(stack, 'google-ams-ix-v4', { localAsn: 13335, peerAsn: 15169, location: 'pdb:ix:26' });
 */
export class RetiredPeeringSession extends TerraformElement {
  /** `peering_session.<name>` (or `terraform_data.<name>`, `null_resource.<name>`) of the retired session. */
  readonly resourceAddress: string;
  private readonly block: Record<string, unknown>;

  constructor(
    scope: Construct,
    id: string,
    props: RetiredPeeringSessionProps,
    options: {
      sessionName?: string;
      /**
       * Forget the session WITHOUT de-peering (`destroy = false`): for handing it over to the operator (GitOps)
       * or to another Terraform configuration that declares the same session.
       */
      handOver?: boolean;
    } = {},
  ) {
    super(scope, id);
    const where = `RetiredPeeringSession "${this.node.path}"`;
    const name = validateSessionName(options.sessionName ?? id, where);
    // Only the naming part of the key matters; stand-in addresses let the shared validator check the rest.
    const session = validateSessionProps(
      {
        apiUrl: 'http://removed.invalid/',
        localIp: '192.0.2.1',
        peerIp: '192.0.2.2',
        localAsn: props.localAsn,
        peerAsn: props.peerAsn,
        location: props.location,
        backing: props.backing,
        peeringctl: props.peeringctl,
      },
      where,
    );
    const backing = session.backing;
    this.resourceAddress = sessionResourceAddress(backing, sessionResourceName(session, name));
    if (backing === 'peering_session') {
      // Our provider de-peers on destroy by itself: the block only says whether to (a session simply deleted
      // from the code is de-peered the same way); handing over is the case that needs this construct.
      this.block = { from: this.resourceAddress, lifecycle: { destroy: options.handOver !== true } };
      return;
    }
    const identity = backing === 'terraform_data' ? 'triggers_replace' : 'triggers';
    const access = backing === 'terraform_data' ? 'input' : 'triggers';
    const [, destroy] = sessionProvisioners(resolvePeeringctl(session.peeringctl), {
      apiUrl: `\${self.${access}.api_url}`,
      // Older state may lack the optional key; `try` keeps the block valid either way.
      tokenEnv: `\${try(self.${access}.token_env, "")}`,
      localAsn: `\${self.${identity}.local_asn}`,
      peerAsn: `\${self.${identity}.peer_asn}`,
      location: `\${self.${identity}.location}`,
      localIp: `\${self.${identity}.local_ip}`,
      peerIp: `\${self.${identity}.peer_ip}`,
    });
    const { type, ...provisioner } = destroy;
    this.block = options.handOver
      ? { from: this.resourceAddress, lifecycle: { destroy: false } }
      : { from: this.resourceAddress, lifecycle: { destroy: true }, provisioner: [{ [type]: provisioner }] };
  }

  override toTerraform(): Record<string, unknown> {
    return { removed: [this.block] };
  }

  override toHclTerraform(): Record<string, unknown> {
    throw new PeeringError(
      'INVALID_FIELD',
      `RetiredPeeringSession "${this.node.path}": cdktf cannot render a removed block as HCL; synthesize JSON, ` +
        'or set decommissioned: true on the PeeringSession instead',
      'removed',
    );
  }
}
