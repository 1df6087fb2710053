import 'cdktf/lib/testing/adapters/jest';
import './support/cdktf-matchers.js';
import { NullProvider } from '@cdktf/provider-null/lib/provider/index.js';
import { Resource as NullResource } from '@cdktf/provider-null/lib/resource/index.js';
import { Testing, TerraformStack } from 'cdktf';
import { PeeringSession } from '../src/peering-session.js';
import { RetiredPeeringSession } from '../src/retired-peering-session.js';
import { AMS_IX, CLOUDFLARE, GOOGLE, cloudflareToGoogleV4 } from './support/ams-ix.js';

Testing.setupJest();

const API = 'https://peering.google.example/v0.1';

interface LocalExec {
  when: string;
  command: string;
  interpreter: string[];
  environment: Record<string, string>;
}
interface Removed {
  from: string;
  lifecycle: { destroy: boolean };
  provisioner?: { 'local-exec': LocalExec }[];
}

function synthesized(build: (stack: TerraformStack) => void): {
  json: string;
  removed: Removed[];
  stack: TerraformStack;
} {
  const stack = new TerraformStack(Testing.app(), 'test');
  build(stack);
  const json = Testing.synth(stack);
  return { json, removed: (JSON.parse(json) as { removed?: Removed[] }).removed ?? [], stack };
}

describe('RetiredPeeringSession', () => {
  it('emits a removed block for the session’s resource that still runs the de-peer, from state alone', () => {
    const before = new PeeringSession(
      new TerraformStack(Testing.app(), 'x'),
      'v4',
      cloudflareToGoogleV4(API),
    );
    const { removed } = synthesized(
      // The other props may stay in place: a one-word change retires the session.
      (stack) => new RetiredPeeringSession(stack, 'v4', cloudflareToGoogleV4(API)),
    );
    expect(removed).toHaveLength(1);
    const [block] = removed;
    expect(block?.from).toBe(before.resourceAddress);
    expect(block?.lifecycle).toEqual({ destroy: true });
    const exec = block?.provisioner?.[0]?.['local-exec'];
    expect(exec?.when).toBe('destroy');
    expect(exec?.command).toBe('delete');
    expect(exec?.environment).toEqual({
      PEERING_API_URL: '${self.input.api_url}',
      PEERING_TOKEN_ENV: '${try(self.input.token_env, "")}',
      PEERING_LOCAL_ASN: '${self.triggers_replace.local_asn}',
      PEERING_PEER_ASN: '${self.triggers_replace.peer_asn}',
      PEERING_LOCATION: '${self.triggers_replace.location}',
      PEERING_LOCAL_IP: '${self.triggers_replace.local_ip}',
      PEERING_PEER_IP: '${self.triggers_replace.peer_ip}',
    });
  });

  it('only needs the parts of the key that name the resource', () => {
    const { removed } = synthesized(
      (stack) =>
        new RetiredPeeringSession(stack, 'ams-ix-v6', {
          localAsn: CLOUDFLARE.asn,
          peerAsn: GOOGLE.asn,
          location: AMS_IX,
          backing: 'terraform_data',
        }),
    );
    expect(removed[0]?.from).toBe('terraform_data.peering_as13335_as15169_ix26_ams_ix_v6');
  });

  it('hands a session over without de-peering it', () => {
    const { removed } = synthesized(
      (stack) => new RetiredPeeringSession(stack, 'v4', cloudflareToGoogleV4(API), { handOver: true }),
    );
    expect(removed).toEqual([
      { from: 'terraform_data.peering_as13335_as15169_ix26_v4', lifecycle: { destroy: false } },
    ]);
  });

  it('is valid Terraform next to live and decommissioned sessions', () => {
    const stack = new TerraformStack(Testing.app(), 'valid');
    new PeeringSession(stack, 'v4', cloudflareToGoogleV4(API));
    new PeeringSession(stack, 'v4b', {
      ...cloudflareToGoogleV4(API),
      peerIp: GOOGLE.v4[1],
      decommissioned: true,
    });
    new RetiredPeeringSession(stack, 'v6', {
      localAsn: CLOUDFLARE.asn,
      peerAsn: GOOGLE.asn,
      location: AMS_IX,
    });
    new RetiredPeeringSession(
      stack,
      'v6b',
      { localAsn: CLOUDFLARE.asn, peerAsn: GOOGLE.asn, location: AMS_IX },
      {
        handOver: true,
      },
    );
    expect(Testing.fullSynth(stack)).toBeValidTerraform();
  });

  it('refuses to be rendered as HCL rather than silently dropping the de-peer', () => {
    const stack = new TerraformStack(Testing.app(), 'hcl');
    new RetiredPeeringSession(stack, 'v4', cloudflareToGoogleV4(API));
    expect(() => Testing.synthHcl(stack)).toThrow(
      /cannot render a removed block as HCL.*decommissioned: true/,
    );
  });

  it('refuses props that do not name a session', () => {
    expect(() =>
      synthesized(
        (stack) =>
          new RetiredPeeringSession(stack, 'v4', { localAsn: CLOUDFLARE.asn, peerAsn: 0, location: AMS_IX }),
      ),
    ).toThrow(/RetiredPeeringSession "test\/v4" has invalid props:\n {2}peerAsn: /);
  });
});

describe('opt-in backing on null_resource', () => {
  it('uses the null provider, with every value as a string trigger read back through self.triggers', () => {
    const { json } = synthesized(
      (stack) =>
        new PeeringSession(stack, 'v4', {
          ...cloudflareToGoogleV4(API),
          backing: 'null_resource',
          tokenEnv: 'TOKEN_AS15169',
        }),
    );
    expect(json).toHaveProvider(NullProvider);
    expect(json).toHaveResourceWithProperties(NullResource, {
      triggers: {
        local_asn: '13335',
        peer_asn: '15169',
        location: AMS_IX,
        local_ip: CLOUDFLARE.v4,
        peer_ip: GOOGLE.v4[0],
        api_url: API,
        token_env: 'TOKEN_AS15169',
      },
    });
    const resource = (
      JSON.parse(json) as {
        resource: { null_resource: Record<string, { provisioner: { 'local-exec': LocalExec }[] }> };
      }
    ).resource.null_resource.peering_as13335_as15169_ix26_v4;
    for (const step of resource?.provisioner ?? []) {
      for (const value of Object.values(step['local-exec'].environment)) {
        expect(value).toMatch(/^\$\{self\.triggers\.[a-z_]+\}$/);
      }
    }
  });

  it('adds one provider block per stack, or none when the stack has its own', () => {
    const { json } = synthesized((stack) => {
      new NullProvider(stack, 'mine', { alias: undefined });
      new PeeringSession(stack, 'v4', { ...cloudflareToGoogleV4(API), backing: 'null_resource' });
      new PeeringSession(stack, 'v4b', {
        ...cloudflareToGoogleV4(API),
        peerIp: GOOGLE.v4[1],
        backing: 'null_resource',
      });
    });
    expect((JSON.parse(json) as { provider: { null: unknown[] } }).provider.null).toHaveLength(1);
  });

  it('retires null-backed sessions the same way', () => {
    const { removed } = synthesized(
      (stack) =>
        new RetiredPeeringSession(stack, 'v4', { ...cloudflareToGoogleV4(API), backing: 'null_resource' }),
    );
    expect(removed[0]?.from).toBe('null_resource.peering_as13335_as15169_ix26_v4');
    expect(removed[0]?.provisioner?.[0]?.['local-exec'].environment.PEERING_PEER_IP).toBe(
      '${self.triggers.peer_ip}',
    );
  });
});
