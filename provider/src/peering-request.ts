import { Construct } from 'constructs';
import {
  manifestsToYaml,
  peeringRequestManifest,
  type ManifestOptions,
  type PeeringManifest,
} from './manifests.js';
import { PeeringSession } from './peering-session.js';
import { validateRequestProps, type PeeringRequestProps } from './session-props.js';

/**
 * A set of sessions with one peer, the Terraform twin of the operator's PeeringRequest resource.
 *
 * Each session becomes its own `PeeringSession` (one resource each, named from the natural key and the
 * session's `name`), so changing one session replaces only that one. All props are validated together, and
 * every bad field is reported at once as `sessions[i].field`.
 *
 * @example
 * new PeeringRequest(stack, 'google', {
 *   localAsn: 13335,
 *   peerAsn: 15169,
 *   apiUrl: 'https://peering.google.example/v0.1',
 *   tokenEnv: 'PEERING_TOKEN_AS15169',
 *   sessions: [
 *     { name: 'ams-ix-v4', location: 'pdb:ix:26', localIp: '80.249.211.140', peerIp: '80.249.208.247' },
 *     { name: 'ams-ix-v6', location: 'pdb:ix:26', localIp: '2001:7f8:1::a501:3335:1', peerIp: '2001:7f8:1::a501:5169:1' },
 *   ],
 * });
 */
export class PeeringRequest extends Construct {
  /** The sessions, in the order given. */
  readonly sessions: readonly PeeringSession[];

  constructor(scope: Construct, id: string, props: PeeringRequestProps) {
    super(scope, id);
    const valid = validateRequestProps(props, `PeeringRequest "${this.node.path}"`);
    // Each session goes to its PeeringSession as validated (a ValidRequestedSession), so it is not checked twice.
    this.sessions = valid.map(
      (session) => new PeeringSession(this, session.name, session, { sessionName: session.name }),
    );
  }

  /** The same peering as the operator's PeeringRequest (decommissioned sessions left out). */
  toManifests(options: ManifestOptions = {}): PeeringManifest[] {
    const manifest = peeringRequestManifest(
      { name: this.node.id, sessions: this.sessions.map((s) => s.session) },
      options,
    );
    return manifest === undefined ? [] : [manifest];
  }

  /** `toManifests()` as a multi-document YAML stream. */
  toYaml(options: ManifestOptions = {}): string {
    return manifestsToYaml(this.toManifests(options));
  }
}
