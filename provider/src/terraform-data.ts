import {
  anyToHclTerraform,
  anyToTerraform,
  hashMapper,
  hashMapperHcl,
  TerraformResource,
  type TerraformMetaArguments,
} from 'cdktf';
import type { Construct } from 'constructs';

/** The meta-arguments of a resource's config (count, provider, lifecycle, …), for its TerraformResource base. */
export function metaArguments(config: TerraformMetaArguments): TerraformMetaArguments {
  const { dependsOn, count, provider, lifecycle, forEach, provisioners, connection } = config;
  return { dependsOn, count, provider, lifecycle, forEach, provisioners, connection };
}

export interface TerraformDataConfig extends TerraformMetaArguments {
  /** Stored in state; a change replaces the resource (and so runs its destroy- and create-time commands). */
  readonly triggersReplace?: Record<string, unknown>;
  /** Stored in state; a change updates it in place, running no command. */
  readonly input?: Record<string, unknown>;
}

/**
 * Terraform's built-in `terraform_data` resource (Terraform ≥ 1.4): needs no provider, so `terraform init`
 * works offline.
 *
 * cdktf ships a `DataResource` for the same resource, but it adds a validation that runs `terraform version`
 * once per resource at synth time (over a minute for 1,000 sessions, and a failure where terraform is not on
 * the PATH). This class emits the same JSON without it.
 *
 * @example
 * new TerraformData(stack, 'marker', { triggersReplace: { peer_asn: 64501 }, input: { api_url: 'https://…' } });
 */
export class TerraformData extends TerraformResource {
  static readonly tfResourceType = 'terraform_data';

  private readonly triggersReplace?: Record<string, unknown>;
  private readonly input?: Record<string, unknown>;

  constructor(scope: Construct, id: string, config: TerraformDataConfig = {}) {
    super(scope, id, {
      terraformResourceType: TerraformData.tfResourceType,
      terraformGeneratorMetadata: { providerName: 'terraform' },
      ...metaArguments(config),
    });
    this.triggersReplace = config.triggersReplace;
    this.input = config.input;
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return {
      input: hashMapper(anyToTerraform)(this.input),
      triggers_replace: hashMapper(anyToTerraform)(this.triggersReplace),
    };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return {
      input: hashMapperHcl(anyToHclTerraform)(this.input),
      triggers_replace: hashMapperHcl(anyToHclTerraform)(this.triggersReplace),
    };
  }
}
