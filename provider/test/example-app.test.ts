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
  it('synthesizes valid Terraform with one terraform_data per session', () => {
    const { stack } = buildApp({});
    const json = Testing.synth(stack);
    const resources = Object.keys(
      (JSON.parse(json) as { resource: { terraform_data: Record<string, unknown> } }).resource.terraform_data,
    );
    expect(resources.sort()).toEqual([
      'peering_as13335_as15169_ix26_ams_ix_v4',
      'peering_as13335_as15169_ix26_ams_ix_v6',
    ]);
    const synthesized = Testing.fullSynth(stack);
    expect(synthesized).toBeValidTerraform();
    expect(synthesized).toPlanSuccessfully();
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
