import 'cdktf/lib/testing/adapters/jest';
import './support/cdktf-matchers.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { describeWithSample } from '../../controller/test/support/sample.js';
import { PeeringRequestSpecSchema } from '../../controller/src/operator/resources/peering-request.js';
import { buildApp } from '../../examples/cdktf/main.js';
import { peeringManifests } from '../src/gitops.js';

Testing.setupJest();

describe('examples/cdktf', () => {
  it('synthesizes one peering_session per session, Google’s token and the secret as ephemeral variables', () => {
    const { stack } = buildApp({});
    const json = JSON.parse(Testing.synth(stack)) as {
      terraform: { required_providers: Record<string, { source: string }> };
      provider: { peering: { alias?: string; token?: string }[] };
      variable: Record<string, { ephemeral?: boolean; sensitive?: boolean; type?: string }>;
      resource: { peering_session: Record<string, Record<string, unknown>> };
    };
    expect(json.terraform.required_providers['peering']?.source).toBe('peering-operator/peering');
    const sessions = json.resource.peering_session;
    expect(Object.keys(sessions).sort()).toEqual([
      'peering_as13335_as15169_ix26_ams_ix_v4',
      'peering_as13335_as15169_ix26_ams_ix_v6',
    ]);
    expect(sessions['peering_as13335_as15169_ix26_ams_ix_v4']).toMatchObject({
      provider: 'peering.peering_token_as15169',
      api_url: 'https://peering.as15169.example/v0.1',
      local_asn: 13335,
      peer_asn: 15169,
      location: 'pdb:ix:26',
      local_ip: '80.249.211.140',
      peer_ip: '80.249.208.247',
      local_bgp_role: 4,
      peer_bgp_role: 4,
      session_secret: '${var.BGP_MD5_AS15169_AMS_IX}',
      session_secret_version: 1,
    });
    expect(json.provider.peering).toEqual([
      { alias: 'peering_token_as15169', token: '${var.PEERING_TOKEN_AS15169}' },
    ]);
    for (const name of ['PEERING_TOKEN_AS15169', 'BGP_MD5_AS15169_AMS_IX'])
      expect(json.variable[name]).toMatchObject({ ephemeral: true, sensitive: true, type: 'string' });
  });

  it('emits the same peering as a PeeringRequest the operator accepts', () => {
    const { app } = buildApp({ PEERING_API_URL_AS15169: 'http://127.0.0.1:8080/v0.1' });
    const [manifest, ...rest] = peeringManifests(app);
    expect(rest).toEqual([]);
    expect(manifest?.spec.peerApiUrl).toBe('http://127.0.0.1:8080/v0.1');
    expect(PeeringRequestSpecSchema.safeParse(manifest?.spec).success).toBe(true);
  });
});

describeWithSample('examples/cdktf against PeeringDB', (sampleDir) => {
  it('uses addresses both networks registered at AMS-IX', () => {
    const netixlan = (
      JSON.parse(readFileSync(join(sampleDir, 'netixlan.json'), 'utf8')) as {
        data: { asn: number; ix_id: number; ipaddr4: string | null; ipaddr6: string | null }[];
      }
    ).data;
    const registered = (asn: number, ix: number, ip: string) =>
      netixlan.some((n) => n.asn === asn && n.ix_id === ix && (n.ipaddr4 === ip || n.ipaddr6 === ip));
    const { stack } = buildApp({});
    for (const { session } of stack.google.sessions) {
      const ix = Number(session.location.id.split(':')[2]);
      expect(registered(session.localAsn, ix, session.localIp)).toBe(true);
      expect(registered(session.peerAsn, ix, session.peerIp)).toBe(true);
    }
  });
});
