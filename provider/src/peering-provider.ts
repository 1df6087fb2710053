import {
  booleanToHclTerraform,
  booleanToTerraform,
  numberToHclTerraform,
  numberToTerraform,
  stringToHclTerraform,
  stringToTerraform,
  TerraformProvider,
  TerraformResource,
  type TerraformMetaArguments,
} from 'cdktf';
import type { Construct } from 'constructs';
import { metaArguments } from './terraform-data.js';

/**
 * Our Terraform provider (provider/terraform-provider-peering, terraform-plugin-framework): its source address
 * and the version this package was built with. `scripts/setup.d/41-terraform-peering.sh` builds it into a
 * filesystem mirror under that address.
 */
export const PEERING_PROVIDER_SOURCE = 'peering-operator/peering';
export const PEERING_PROVIDER_VERSION = '0.1.0';

type HclAttribute = { value: unknown; isBlock: boolean; type: string; storageClassType: string };

/** Attributes without the undefined ones, as cdktf's generated bindings leave them out. */
function defined<T extends Record<string, unknown>>(attributes: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(attributes).filter(
      ([, v]) => v !== undefined && (v as HclAttribute | undefined)?.value !== undefined,
    ),
  ) as Partial<T>;
}

const hclString = (value: string | undefined): HclAttribute => ({
  value: stringToHclTerraform(value),
  isBlock: false,
  type: 'simple',
  storageClassType: 'string',
});
const hclNumber = (value: number | undefined): HclAttribute => ({
  value: numberToHclTerraform(value),
  isBlock: false,
  type: 'simple',
  storageClassType: 'number',
});
const hclBoolean = (value: boolean | undefined): HclAttribute => ({
  value: booleanToHclTerraform(value),
  isBlock: false,
  type: 'simple',
  storageClassType: 'boolean',
});

export interface PeeringProviderConfig {
  /** A second (third, …) configuration of the provider, for another peer's token. */
  readonly alias?: string;
  /** Default `api_url` of the resources using this configuration. */
  readonly apiUrl?: string;
  /** Default `local_asn` (our ASN). */
  readonly localAsn?: number;
  /** The bearer token, normally a reference to an ephemeral variable; `PEERING_API_TOKEN` when absent. */
  readonly token?: string;
  /** Time limit of one HTTP attempt, e.g. `30s`. */
  readonly requestTimeout?: string;
}

/**
 * The `peering` provider block (`peering-operator/peering`). A thin binding written by hand, in the shape
 * `cdktf get` generates, and checked against the provider's own schema (`terraform providers schema -json`) by
 * provider/test/terraform-constructs-provider.test.ts.
 */
export class PeeringProvider extends TerraformProvider {
  static readonly tfResourceType = 'peering';
  private readonly config: PeeringProviderConfig;
  private aliasName: string | undefined;

  // TerraformProvider's own alias accessors store nothing: every provider binding overrides them.
  override get alias(): string | undefined {
    return this.aliasName;
  }

  override set alias(value: string | undefined) {
    this.aliasName = value;
  }

  constructor(scope: Construct, id: string, config: PeeringProviderConfig = {}) {
    super(scope, id, {
      terraformResourceType: PeeringProvider.tfResourceType,
      terraformGeneratorMetadata: { providerName: 'peering', providerVersion: PEERING_PROVIDER_VERSION },
      terraformProviderSource: PEERING_PROVIDER_SOURCE,
    });
    this.config = config;
    this.alias = config.alias;
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return {
      alias: stringToTerraform(this.alias),
      api_url: stringToTerraform(this.config.apiUrl),
      local_asn: numberToTerraform(this.config.localAsn),
      token: stringToTerraform(this.config.token),
      request_timeout: stringToTerraform(this.config.requestTimeout),
    };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return defined({
      alias: hclString(this.alias),
      api_url: hclString(this.config.apiUrl),
      local_asn: hclNumber(this.config.localAsn),
      token: hclString(this.config.token),
      request_timeout: hclString(this.config.requestTimeout),
    });
  }
}

export interface PeeringSessionResourceConfig extends TerraformMetaArguments {
  readonly apiUrl?: string;
  readonly localAsn?: number;
  readonly peerAsn: number;
  readonly location: string;
  readonly localIp: string;
  readonly peerIp: string;
  readonly peerType?: 'public' | 'private';
  readonly localBgpRole?: number;
  readonly peerBgpRole?: number;
  readonly localInsertAsn?: boolean;
  readonly peerInsertAsn?: boolean;
  readonly localMonitoringSession?: boolean;
  readonly peerMonitoringSession?: boolean;
  /** Write-only: a reference to an ephemeral variable, never a literal (a literal would sit in the JSON). */
  readonly sessionSecret?: string;
  readonly sessionSecretVersion?: number;
  readonly waitForStatus?: 'approved' | 'configured' | 'established';
  readonly waitTimeout?: string;
}

/**
 * A `peering_session` resource of our provider: create asks the peer (POST /sessions), read follows it (GET by
 * id, gone → planned again), delete de-peers (DELETE), import by id or natural key. Hand-written binding, checked
 * against the provider's schema like {@link PeeringProvider}.
 */
export class PeeringSessionResource extends TerraformResource {
  static readonly tfResourceType = 'peering_session';
  private readonly config: PeeringSessionResourceConfig;

  constructor(scope: Construct, id: string, config: PeeringSessionResourceConfig) {
    super(scope, id, {
      terraformResourceType: PeeringSessionResource.tfResourceType,
      terraformGeneratorMetadata: { providerName: 'peering', providerVersion: PEERING_PROVIDER_VERSION },
      ...metaArguments(config),
    });
    this.config = config;
  }

  /** The id the peer gave the session. */
  get sessionId(): string {
    return this.getStringAttribute('session_id');
  }

  /** The session's status at the peer, as of the last refresh. */
  get status(): string {
    return this.getStringAttribute('status');
  }

  /** The peer's id of the request that asked for the session. */
  get requestId(): string {
    return this.getStringAttribute('request_id');
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    const c = this.config;
    return {
      api_url: stringToTerraform(c.apiUrl),
      local_asn: numberToTerraform(c.localAsn),
      peer_asn: numberToTerraform(c.peerAsn),
      location: stringToTerraform(c.location),
      local_ip: stringToTerraform(c.localIp),
      peer_ip: stringToTerraform(c.peerIp),
      peer_type: stringToTerraform(c.peerType),
      local_bgp_role: numberToTerraform(c.localBgpRole),
      peer_bgp_role: numberToTerraform(c.peerBgpRole),
      local_insert_asn: booleanToTerraform(c.localInsertAsn),
      peer_insert_asn: booleanToTerraform(c.peerInsertAsn),
      local_monitoring_session: booleanToTerraform(c.localMonitoringSession),
      peer_monitoring_session: booleanToTerraform(c.peerMonitoringSession),
      session_secret: stringToTerraform(c.sessionSecret),
      session_secret_version: numberToTerraform(c.sessionSecretVersion),
      wait_for_status: stringToTerraform(c.waitForStatus),
      wait_timeout: stringToTerraform(c.waitTimeout),
    };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    const c = this.config;
    return defined({
      api_url: hclString(c.apiUrl),
      local_asn: hclNumber(c.localAsn),
      peer_asn: hclNumber(c.peerAsn),
      location: hclString(c.location),
      local_ip: hclString(c.localIp),
      peer_ip: hclString(c.peerIp),
      peer_type: hclString(c.peerType),
      local_bgp_role: hclNumber(c.localBgpRole),
      peer_bgp_role: hclNumber(c.peerBgpRole),
      local_insert_asn: hclBoolean(c.localInsertAsn),
      peer_insert_asn: hclBoolean(c.peerInsertAsn),
      local_monitoring_session: hclBoolean(c.localMonitoringSession),
      peer_monitoring_session: hclBoolean(c.peerMonitoringSession),
      session_secret: hclString(c.sessionSecret),
      session_secret_version: hclNumber(c.sessionSecretVersion),
      wait_for_status: hclString(c.waitForStatus),
      wait_timeout: hclString(c.waitTimeout),
    });
  }
}
