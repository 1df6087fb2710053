import 'cdktf/lib/testing/adapters/jest';
import { Testing, TerraformStack } from 'cdktf';
import { PeeringError } from '../../controller/src/domain/errors.js';
import { PeeringProvider } from '../src/peering-provider.js';
import { PeeringRequest } from '../src/peering-request.js';
import { PeeringSession } from '../src/peering-session.js';
import { RetiredPeeringSession } from '../src/retired-peering-session.js';
import type { PeeringSessionProps } from '../src/session-props.js';
import { AMS_IX_V6_PEER_ROLES, CLOUDFLARE, GOOGLE, cloudflareToGoogleV4 } from './support/ams-ix.js';

Testing.setupJest();

const API = 'https://peering.google.example/v0.1';
const v4 = (): PeeringSessionProps => cloudflareToGoogleV4(API, 'peering_session');

interface Synthesized {
  provider?: { peering?: Record<string, unknown>[] };
  variable?: Record<string, Record<string, unknown>>;
  resource?: { peering_session?: Record<string, Record<string, unknown>>; terraform_data?: unknown };
  removed?: Record<string, unknown>[];
}

function synth(build: (stack: TerraformStack) => void): Synthesized {
  const stack = new TerraformStack(Testing.app(), 'test');
  build(stack);
  return JSON.parse(Testing.synth(stack)) as Synthesized;
}

function refusal(build: (stack: TerraformStack) => void): PeeringError {
  try {
    synth(build);
  } catch (error) {
    expect(error).toBeInstanceOf(PeeringError);
    return error as PeeringError;
  }
  throw new Error('expected the construct to refuse its props');
}

describe('PeeringSession on the peering provider (the default)', () => {
  it('is one peering_session with every term, and no command and no terraform_data', () => {
    const json = synth((stack) => new PeeringSession(stack, 'v4', { ...v4(), backing: undefined }));
    expect(json.resource?.terraform_data).toBeUndefined();
    expect(json.resource?.peering_session).toEqual({
      peering_as13335_as15169_ix26_v4: {
        provider: 'peering',
        api_url: API,
        local_asn: CLOUDFLARE.asn,
        peer_asn: GOOGLE.asn,
        location: 'pdb:ix:26',
        local_ip: CLOUDFLARE.v4,
        peer_ip: GOOGLE.v4[0],
      },
    });
    // Without tokenEnv the default configuration reads PEERING_API_TOKEN: nothing about a token in the JSON.
    expect(json.provider?.peering).toEqual([{}]);
    expect(json.variable).toBeUndefined();
  });

  it('gives each token variable a provider configuration of its own, shared by the sessions that use it', () => {
    const json = synth((stack) => {
      new PeeringSession(stack, 'v4', { ...v4(), tokenEnv: 'TOKEN_GOOGLE' });
      new PeeringSession(stack, 'v4b', { ...v4(), peerIp: GOOGLE.v4[1], tokenEnv: 'TOKEN_GOOGLE' });
      new PeeringSession(stack, 'other', {
        ...v4(),
        peerAsn: 64501,
        peerIp: '80.249.208.1',
        apiUrl: 'https://peering.as64501.example/v0.1',
        tokenEnv: 'TOKEN_64501',
      });
    });
    expect(json.provider?.peering).toEqual([
      { alias: 'token_google', token: '${var.TOKEN_GOOGLE}' },
      { alias: 'token_64501', token: '${var.TOKEN_64501}' },
    ]);
    const providers = Object.values(json.resource?.peering_session ?? {}).map((r) => r['provider']);
    expect(providers).toEqual(['peering.token_google', 'peering.token_google', 'peering.token_64501']);
    expect(json.variable?.['TOKEN_GOOGLE']).toMatchObject({
      ephemeral: true,
      sensitive: true,
      nullable: false,
    });
  });

  it('uses the stack’s own peering provider when it has one', () => {
    const json = synth((stack) => {
      new PeeringProvider(stack, 'mine', { localAsn: CLOUDFLARE.asn, requestTimeout: '10s' });
      new PeeringSession(stack, 'v4', v4());
    });
    expect(json.provider?.peering).toEqual([{ local_asn: CLOUDFLARE.asn, request_timeout: '10s' }]);
  });

  it('passes the secret as a write-only value from an ephemeral variable, with a version to rotate it', () => {
    const json = synth((stack) => {
      new PeeringRequest(stack, 'google', {
        localAsn: CLOUDFLARE.asn,
        peerAsn: GOOGLE.asn,
        apiUrl: API,
        waitForStatus: 'established',
        waitTimeout: '30m',
        sessions: [
          { ...AMS_IX_V6_PEER_ROLES, secretEnv: 'BGP_MD5_GOOGLE', secretVersion: 2 },
          { name: 'v4', location: 'pdb:ix:26', localIp: CLOUDFLARE.v4, peerIp: GOOGLE.v4[0] },
        ],
      });
    });
    const sessions = json.resource?.peering_session ?? {};
    expect(sessions['peering_as13335_as15169_ix26_ams_ix_v6']).toMatchObject({
      local_bgp_role: 4,
      peer_bgp_role: 4,
      session_secret: '${var.BGP_MD5_GOOGLE}',
      session_secret_version: 2,
      wait_for_status: 'established',
      wait_timeout: '30m',
    });
    expect(sessions['peering_as13335_as15169_ix26_v4']).not.toHaveProperty('session_secret');
    expect(json.variable?.['BGP_MD5_GOOGLE']).toMatchObject({ ephemeral: true, sensitive: true });
  });

  it('keeps a decommissioned session with count 0: the provider de-peers it on the next apply', () => {
    const json = synth((stack) => new PeeringSession(stack, 'v4', { ...v4(), decommissioned: true }));
    expect(json.resource?.peering_session?.['peering_as13335_as15169_ix26_v4']).toMatchObject({ count: 0 });
  });

  it('hands a session over with a removed block that keeps it at the peer, or retires it with destroy', () => {
    const handOver = synth((stack) => new RetiredPeeringSession(stack, 'v4', v4(), { handOver: true }));
    expect(handOver.removed).toEqual([
      { from: 'peering_session.peering_as13335_as15169_ix26_v4', lifecycle: { destroy: false } },
    ]);
    const retired = synth((stack) => new RetiredPeeringSession(stack, 'v4', v4()));
    expect(retired.removed).toEqual([
      { from: 'peering_session.peering_as13335_as15169_ix26_v4', lifecycle: { destroy: true } },
    ]);
  });

  it('refuses what only the provider can do on the peeringctl backings, and a version without a secret', () => {
    const wait = refusal(
      (stack) =>
        new PeeringSession(stack, 'v4', { ...cloudflareToGoogleV4(API), waitForStatus: 'established' }),
    );
    expect(wait.message).toMatch(/waitForStatus: needs backing peering_session/);
    const version = refusal((stack) => new PeeringSession(stack, 'v4', { ...v4(), secretVersion: 2 }));
    expect(version.message).toMatch(/secretVersion: versions a secret: give secretEnv too/);
    const timeout = refusal((stack) => new PeeringSession(stack, 'v4', { ...v4(), waitTimeout: 'soon' }));
    expect(timeout.message).toMatch(/waitTimeout: must be a duration/);
  });

  it('renders as HCL with numbers as numbers and the variable ephemeral', () => {
    const stack = new TerraformStack(Testing.app(), 'hcl');
    new PeeringSession(stack, 'v4', { ...v4(), tokenEnv: 'TOKEN_GOOGLE', secretEnv: 'BGP_MD5' });
    const hcl = Testing.synthHcl(stack);
    expect(hcl).toMatch(/resource "peering_session" "peering_as13335_as15169_ix26_v4" \{/);
    expect(hcl).toMatch(/peer_asn\s+= 15169/);
    expect(hcl).toContain('session_secret = "${var.BGP_MD5}"');
    // cdktf quotes the provider reference: Terraform 1.11 accepts it with a deprecation warning (docs/terraform.md).
    expect(hcl).toContain('provider = "peering.token_google"');
    expect(hcl).toMatch(/variable "BGP_MD5" \{[^}]*ephemeral\s+= true/s);
  });
});
