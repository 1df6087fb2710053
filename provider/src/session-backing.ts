import { NullProvider } from '@cdktf/provider-null/lib/provider/index.js';
import { Resource as NullResource } from '@cdktf/provider-null/lib/resource/index.js';
import {
  TerraformStack,
  TerraformVariable,
  type LocalExecProvisioner,
  type TerraformProvider,
  type TerraformResource,
} from 'cdktf';
import type { Construct } from 'constructs';
import type { Location } from '../../controller/src/domain/location.js';
import { sessionProvisioners, type SelfValues } from './peeringctl-command.js';
import type { SessionBacking, ValidSession } from './session-props.js';
import { PeeringProvider, PeeringSessionResource } from './peering-provider.js';
import { TerraformData } from './terraform-data.js';

/**
 * The Terraform resource name of a session: from the stable part of its natural key (our ASN, the peer's ASN,
 * the location) and its name. The addresses are deliberately not part of it: a changed address must plan as a
 * replacement of the same resource (which runs the de-peer and then the request), not as a resource that
 * vanishes from the code (which Terraform drops from state without running its destroy-time command).
 *
 * @example
 * sessionResourceName({ localAsn: 13335, peerAsn: 15169, location: { id: 'pdb:ix:26', type: 'public' } }, 'v4');
 * // 'peering_as13335_as15169_ix26_v4'
 */
export function sessionResourceName(
  session: { localAsn: number; peerAsn: number; location: Location },
  name: string,
): string {
  const where = session.location.id.replace(/^pdb:/, '').replace(':', '');
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `peering_as${session.localAsn}_as${session.peerAsn}_${where}_${slug}`;
}

/** `peering_session.<name>`, `terraform_data.<name>` or `null_resource.<name>`: what a `removed` block names. */
export function sessionResourceAddress(backing: SessionBacking, resourceName: string): string {
  return `${backing}.${resourceName}`;
}

// Identity: everything the peer is told about. A change replaces the resource, so Terraform runs the de-peer
// (destroy-time) and then the request (create-time); an in-place update would run no command at all.
function identity(session: ValidSession): Record<string, string | number> {
  const out: Record<string, string | number> = {
    local_asn: session.localAsn,
    peer_asn: session.peerAsn,
    location: session.location.id,
    local_ip: session.localIp,
    peer_ip: session.peerIp,
  };
  if (session.localBgpRole !== undefined) out.local_bgp_role = session.localBgpRole;
  if (session.peerBgpRole !== undefined) out.peer_bgp_role = session.peerBgpRole;
  if (session.secretEnv !== undefined) out.secret_env = session.secretEnv;
  return out;
}

// How to reach the peer: may change without touching the session (a moved API, a renamed token variable).
function access(session: ValidSession): Record<string, string> {
  const out: Record<string, string> = { api_url: session.apiUrl };
  if (session.tokenEnv !== undefined) out.token_env = session.tokenEnv;
  return out;
}

function selfValues(
  session: ValidSession,
  identityOf: (key: string) => string,
  accessOf: (key: string) => string,
): SelfValues {
  return {
    apiUrl: accessOf('api_url'),
    tokenEnv: session.tokenEnv === undefined ? undefined : accessOf('token_env'),
    localAsn: identityOf('local_asn'),
    peerAsn: identityOf('peer_asn'),
    location: identityOf('location'),
    localIp: identityOf('local_ip'),
    peerIp: identityOf('peer_ip'),
    localBgpRole: session.localBgpRole === undefined ? undefined : identityOf('local_bgp_role'),
    peerBgpRole: session.peerBgpRole === undefined ? undefined : identityOf('peer_bgp_role'),
    secretEnv: session.secretEnv === undefined ? undefined : identityOf('secret_env'),
  };
}

/**
 * Creates the one resource that backs a session, named `resourceName`, with its request and de-peer commands.
 * A decommissioned session keeps its resource with `count = 0`, so that Terraform destroys the existing
 * instance with the de-peer command still in the configuration.
 */
export function backSession(
  scope: Construct,
  session: ValidSession,
  resourceName: string,
  peeringctl: readonly string[],
): TerraformResource {
  const count = session.decommissioned ? 0 : undefined;
  let resource: TerraformResource;
  if (session.backing === 'peering_session') {
    resource = new PeeringSessionResource(scope, 'resource', {
      provider: peeringProviderFor(scope, session.tokenEnv),
      apiUrl: session.apiUrl,
      localAsn: session.localAsn,
      peerAsn: session.peerAsn,
      location: session.location.id,
      localIp: session.localIp,
      peerIp: session.peerIp,
      localBgpRole: session.localBgpRole,
      peerBgpRole: session.peerBgpRole,
      ...(session.secretEnv === undefined
        ? {}
        : {
            sessionSecret: ephemeralVariable(scope, session.secretEnv, 'the MD5/TCP-AO secret of a session'),
            sessionSecretVersion: session.secretVersion ?? 1,
          }),
      waitForStatus: session.waitForStatus,
      waitTimeout: session.waitTimeout,
      count,
    });
  } else if (session.backing === 'terraform_data') {
    const provisioners: LocalExecProvisioner[] = sessionProvisioners(
      peeringctl,
      selfValues(
        session,
        (key) => `\${self.triggers_replace.${key}}`,
        (key) => `\${self.input.${key}}`,
      ),
    );
    resource = new TerraformData(scope, 'resource', {
      triggersReplace: identity(session),
      input: access(session),
      count,
      provisioners,
    });
  } else {
    ensureNullProvider(scope);
    // null_resource has only `triggers`, a map of strings: every value goes there, and every change replaces.
    const triggers = Object.fromEntries(
      Object.entries({ ...identity(session), ...access(session) }).map(([k, v]) => [k, String(v)]),
    );
    const self = (key: string) => `\${self.triggers.${key}}`;
    resource = new NullResource(scope, 'resource', {
      triggers,
      count,
      provisioners: sessionProvisioners(peeringctl, selfValues(session, self, self)),
    });
  }
  resource.overrideLogicalId(resourceName);
  return resource;
}

const stacksWithNullProvider = new WeakSet<TerraformStack>();

// One provider block per stack: the user's own, if the stack has one, else ours.
function ensureNullProvider(scope: Construct): void {
  const stack = TerraformStack.of(scope);
  if (stacksWithNullProvider.has(stack)) return;
  const present = stack.node.findAll().some((c) => c instanceof NullProvider);
  if (!present) new NullProvider(stack, 'peering-null-provider');
  stacksWithNullProvider.add(stack);
}

interface StackProviders {
  providers: Map<string, TerraformProvider>;
  variables: Map<string, TerraformVariable>;
}
const stackProviders = new WeakMap<TerraformStack, StackProviders>();

function providersOf(scope: Construct): StackProviders {
  const stack = TerraformStack.of(scope);
  let entry = stackProviders.get(stack);
  if (entry === undefined) {
    entry = { providers: new Map(), variables: new Map() };
    stackProviders.set(stack, entry);
  }
  return entry;
}

/**
 * A reference to the stack's variable `name`, declared once: sensitive and ephemeral (Terraform >= 1.10), so its
 * value (from `TF_VAR_<name>`) is never written to a plan or the state; only write-only attributes and provider
 * configuration may take it.
 */
function ephemeralVariable(scope: Construct, name: string, what: string): string {
  const entry = providersOf(scope);
  let variable = entry.variables.get(name);
  if (variable === undefined) {
    variable = new TerraformVariable(TerraformStack.of(scope), name, {
      type: 'string',
      sensitive: true,
      nullable: false,
      description: `${what} (set TF_VAR_${name})`,
    });
    // cdktf 0.21 predates ephemeral variables; the JSON key is Terraform's own.
    variable.addOverride('ephemeral', true);
    variable.overrideLogicalId(name);
    entry.variables.set(name, variable);
  }
  return variable.stringValue;
}

/**
 * The `peering` provider configuration for sessions whose token is `tokenEnv`: the stack's default one (token
 * from `PEERING_API_TOKEN`) when there is none, else one per variable, aliased after it. The user's own default
 * `peering` provider, when the stack has one, is used instead of ours.
 */
function peeringProviderFor(scope: Construct, tokenEnv: string | undefined): TerraformProvider {
  const entry = providersOf(scope);
  const key = tokenEnv ?? '';
  let provider = entry.providers.get(key);
  if (provider === undefined) {
    const stack = TerraformStack.of(scope);
    const own = stack.node
      .findAll()
      .find(
        (c): c is PeeringProvider =>
          c instanceof PeeringProvider && c.alias === (tokenEnv?.toLowerCase() ?? undefined),
      );
    provider =
      own ??
      new PeeringProvider(
        stack,
        tokenEnv === undefined ? 'peering-provider' : `peering-provider-${tokenEnv}`,
        {
          ...(tokenEnv === undefined
            ? {}
            : {
                alias: tokenEnv.toLowerCase(),
                token: ephemeralVariable(scope, tokenEnv, "the bearer token of a peer's Peering API"),
              }),
        },
      );
    entry.providers.set(key, provider);
  }
  return provider;
}
