import 'cdktf/lib/testing/adapters/jest';
import './support/cdktf-matchers.js';
import { Testing, TerraformStack } from 'cdktf';
import { parseAllDocuments } from 'yaml';
import { PeeringError } from '../../controller/src/domain/errors.js';
import { PeeringRequestSpecSchema } from '../../controller/src/operator/resources/peering-request.js';
import { peeringManifests, peeringManifestsYaml } from '../src/gitops.js';
import { PeeringRequest } from '../src/peering-request.js';
import { PeeringSession } from '../src/peering-session.js';
import type { PeeringRequestProps } from '../src/session-props.js';
import { TerraformData } from '../src/terraform-data.js';
import { AMS_IX, CLOUDFLARE, GOOGLE, cloudflareToGoogleV4, AMS_IX_V6_PEER_ROLES } from './support/ams-ix.js';

Testing.setupJest();

const API = 'https://peering.google.example/v0.1';

const google: PeeringRequestProps = {
  localAsn: CLOUDFLARE.asn,
  peerAsn: GOOGLE.asn,
  apiUrl: API,
  tokenEnv: 'PEERING_TOKEN_AS15169',
  backing: 'terraform_data',
  sessions: [
    {
      name: 'ams-ix-v4',
      location: AMS_IX,
      localIp: CLOUDFLARE.v4,
      peerIp: GOOGLE.v4[0],
      secretEnv: 'BGP_AMS',
    },
    AMS_IX_V6_PEER_ROLES,
    {
      name: 'ams-ix-v4-old',
      location: AMS_IX,
      localIp: CLOUDFLARE.v4,
      peerIp: GOOGLE.v4[1],
      decommissioned: true,
    },
  ],
};

function stackWith(build: (stack: TerraformStack) => void): TerraformStack {
  const stack = new TerraformStack(Testing.app(), 'test');
  build(stack);
  return stack;
}

function requestError(props: unknown): PeeringError {
  try {
    stackWith((stack) => new PeeringRequest(stack, 'google', props as PeeringRequestProps));
  } catch (error) {
    expect(error).toBeInstanceOf(PeeringError);
    return error as PeeringError;
  }
  throw new Error('expected the request to refuse its props');
}

describe('PeeringRequest', () => {
  it('backs each session with its own terraform_data, named from the natural key and the session name', () => {
    const json = Testing.synth(stackWith((stack) => new PeeringRequest(stack, 'google', google)));
    const resources = (
      JSON.parse(json) as { resource: { terraform_data: Record<string, { count?: number }> } }
    ).resource.terraform_data;
    expect(Object.keys(resources).sort()).toEqual([
      'peering_as13335_as15169_ix26_ams_ix_v4',
      'peering_as13335_as15169_ix26_ams_ix_v4_old',
      'peering_as13335_as15169_ix26_ams_ix_v6',
    ]);
    expect(resources.peering_as13335_as15169_ix26_ams_ix_v4_old?.count).toBe(0);
    expect(json).toHaveResourceWithProperties(TerraformData, {
      triggers_replace: {
        local_asn: 13335,
        peer_asn: 15169,
        location: AMS_IX,
        local_ip: CLOUDFLARE.v6,
        peer_ip: GOOGLE.v6[0],
        local_bgp_role: 4,
        peer_bgp_role: 4,
      },
      input: { api_url: API, token_env: 'PEERING_TOKEN_AS15169' },
    });
  });

  it('gives a session the same resource when it moves from a request to a stand-alone PeeringSession', () => {
    const inRequest = new PeeringRequest(
      stackWith(() => undefined),
      'google',
      google,
    ).sessions[0];
    const alone = new PeeringSession(
      stackWith(() => undefined),
      'ams-ix-v4',
      {
        ...cloudflareToGoogleV4(API),
        secretEnv: 'BGP_AMS',
      },
    );
    expect(inRequest?.resourceAddress).toBe('terraform_data.peering_as13335_as15169_ix26_ams_ix_v4');
    expect(alone.resourceAddress).toBe(inRequest?.resourceAddress);
  });

  it('reports every bad field at once, under sessions[i]', () => {
    const error = requestError({
      ...google,
      apiUrl: 'peering.google.example',
      sessions: [
        { name: 'ok', location: AMS_IX, localIp: CLOUDFLARE.v4, peerIp: GOOGLE.v4[0] },
        { name: 'bad ip', location: AMS_IX, localIp: CLOUDFLARE.v4, peerIp: '80.249.208' },
        { name: 'ok', location: 'pdb:ix:0', localIp: CLOUDFLARE.v4, peerIp: GOOGLE.v4[1], peerIP: 'x' },
      ],
    });
    expect(error.message).toMatch(/^PeeringRequest "test\/google" has invalid props:/);
    expect(error.details.map((d) => d.name)).toEqual([
      'apiUrl',
      'sessions[1].name',
      'sessions[1].peerIp',
      'sessions[2].name',
      'sessions[2].peerIP',
      'sessions[2].location',
    ]);
    expect(error.message).toMatch(/sessions\[2\]\.name: "ok" is already the name of sessions\[0\]/);
  });

  it('checks the request as the operator’s CRD would: cross-field rules, and at most 100 sessions', () => {
    const mixed = requestError({
      ...google,
      sessions: [{ name: 'mixed', location: AMS_IX, localIp: CLOUDFLARE.v4, peerIp: GOOGLE.v6[0] }],
    });
    expect(mixed.message).toMatch(
      /sessions\[0\]\.peerIp: localIp and peerIp must be of the same address family/,
    );

    const self = requestError({ ...google, peerAsn: CLOUDFLARE.asn });
    expect(self.details.map((d) => d.name)).toEqual(['peerAsn']);

    const many = requestError({
      ...google,
      sessions: Array.from({ length: 101 }, (_, i) => ({
        name: `s${i}`,
        location: `pdb:ix:${i + 1}`,
        localIp: CLOUDFLARE.v4,
        peerIp: GOOGLE.v4[0],
      })),
    });
    expect(many.details.map((d) => d.name)).toEqual(['sessions']);

    const none = requestError({ ...google, sessions: [] });
    expect(none.message).toMatch(/sessions: must list at least one session/);
  });

  it('names the request’s ASNs once, not once per session', () => {
    const error = requestError({ ...google, localAsn: -1 });
    expect(error.details.map((d) => d.name)).toEqual(['localAsn']);
  });
});

describe('the same peering as the operator’s resources', () => {
  it('emits one PeeringRequest that the operator’s own schema accepts, without the decommissioned session', () => {
    const request = new PeeringRequest(
      stackWith(() => undefined),
      'Google',
      google,
    );
    const [manifest, ...rest] = request.toManifests({ namespace: 'peering' });
    expect(rest).toEqual([]);
    expect(manifest).toEqual({
      apiVersion: 'peering.autopeer.dev/v1alpha1',
      kind: 'PeeringRequest',
      metadata: { name: 'google', namespace: 'peering' },
      spec: {
        direction: 'Outbound',
        localAsn: 13335,
        peerAsn: 15169,
        peerApiUrl: API,
        credentials: { bearerTokenSecretRef: { name: 'peering-as15169', key: 'PEERING_TOKEN_AS15169' } },
        sessions: [
          {
            location: AMS_IX,
            localIp: CLOUDFLARE.v4,
            peerIp: GOOGLE.v4[0],
            sessionSecretRef: { name: 'peering-as15169', key: 'BGP_AMS' },
          },
          { location: AMS_IX, localIp: CLOUDFLARE.v6, peerIp: GOOGLE.v6[0], localBgpRole: 4, peerBgpRole: 4 },
        ],
      },
    });
    expect(PeeringRequestSpecSchema.safeParse(manifest?.spec).success).toBe(true);
  });

  it('writes YAML that reads back to the same objects, for every peering of a stack', () => {
    const stack = stackWith((s) => {
      new PeeringRequest(s, 'google', google);
      new PeeringSession(s, 'other-v4', {
        localAsn: CLOUDFLARE.asn,
        peerAsn: 64501,
        apiUrl: 'https://peering.as64501.example/v0.1',
        location: 'pdb:ix:18',
        localIp: '192.0.2.1',
        peerIp: '192.0.2.2',
      });
      new PeeringSession(s, 'gone', {
        ...cloudflareToGoogleV4(API),
        peerIp: '80.249.208.1',
        decommissioned: true,
      });
    });
    const manifests = peeringManifests(stack, { secretName: (asn) => `bgp-${asn}` });
    expect(manifests.map((m) => m.metadata.name)).toEqual(['google', 'other-v4']);
    expect(manifests[1]?.spec.credentials?.bearerTokenSecretRef).toEqual({ name: 'bgp-64501', key: 'token' });
    const yaml = peeringManifestsYaml(stack, { secretName: (asn) => `bgp-${asn}` });
    expect(parseAllDocuments(yaml).map((d) => d.toJS() as unknown)).toEqual(manifests);
    for (const manifest of manifests)
      expect(PeeringRequestSpecSchema.safeParse(manifest.spec).success).toBe(true);
  });

  it('emits nothing for a peering whose sessions are all decommissioned', () => {
    const session = new PeeringSession(
      stackWith(() => undefined),
      'gone',
      {
        ...cloudflareToGoogleV4(API),
        decommissioned: true,
      },
    );
    expect(session.toManifests()).toEqual([]);
    expect(session.toYaml()).toBe('');
  });
});
