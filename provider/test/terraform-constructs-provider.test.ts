import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import { describeWithSample } from '../../controller/test/support/sample.js';
import { PeeringProvider, PeeringSessionResource } from '../src/peering-provider.js';
import { PeeringRequest } from '../src/peering-request.js';
import type { PeeringRequestProps } from '../src/session-props.js';
import { AMS_IX, AMS_IX_V6_PEER_ROLES, CLOUDFLARE, GOOGLE } from './support/ams-ix.js';
import { startPeerApi, type PeerApi } from './support/peer-api.js';
import { TerraformDir, describeWithTerraform } from './support/terraform.js';
import { buildPeeringProvider } from './support/terraform-provider.js';

const SECRET = 'md5-secret-never-in-state-7c2a';

/**
 * The constructs on their default backing, our provider, for real: a CDKTF stack synthesized to JSON (and to
 * HCL), run by terraform 1.x with peering-operator/peering from the filesystem mirror, against our Peering API
 * server as Google (AS15169, real PeeringDB sample), for Cloudflare (AS13335). The token and the secret are
 * ephemeral variables (TF_VAR_…).
 */
describeWithSample('the constructs on peering-operator/peering', (sampleDir) => {
  describeWithTerraform(
    'apply, refresh, remove a session from the code, destroy',
    () => {
      let peer: PeerApi;
      let dir: TerraformDir;

      const stack = (sessions: PeeringRequestProps['sessions']) => {
        const built = new TerraformStack(Testing.app(), 'peering');
        new PeeringRequest(built, 'google', {
          localAsn: CLOUDFLARE.asn,
          peerAsn: GOOGLE.asn,
          apiUrl: peer.url,
          tokenEnv: 'PEERING_TOKEN_AS15169',
          waitForStatus: 'approved',
          sessions,
        });
        return built;
      };
      const both: PeeringRequestProps['sessions'] = [
        {
          name: 'ams-ix-v4',
          location: AMS_IX,
          localIp: CLOUDFLARE.v4,
          peerIp: GOOGLE.v4[0],
          secretEnv: 'BGP_MD5_AS15169',
        },
        AMS_IX_V6_PEER_ROLES,
      ];

      beforeAll(async () => {
        await buildPeeringProvider();
        peer = await startPeerApi(sampleDir);
        dir = TerraformDir.create({
          peeringMirror: true,
          env: { TF_VAR_PEERING_TOKEN_AS15169: peer.token, TF_VAR_BGP_MD5_AS15169: SECRET },
        });
      }, 300_000);

      afterAll(async () => {
        dir?.dispose();
        await peer?.stop();
      });

      it('applies both sessions, waiting until the peer approved them; the secret is in neither state nor plan', async () => {
        dir.write(stack(both));
        await dir.ok('init', '-input=false');
        const plan = await dir.ok('plan', '-input=false', '-out=plan.tfplan');
        expect(plan).toMatch(/Plan: 2 to add, 0 to change, 0 to destroy/);
        await dir.ok('apply', '-input=false', 'plan.tfplan');
        const listed = await peer.sessions();
        expect(listed.map((s) => s.peer_ip).sort()).toEqual([CLOUDFLARE.v6, CLOUDFLARE.v4].sort());
        const state = readFileSync(join(dir.path, 'terraform.tfstate'), 'utf8');
        expect(state).toContain('"status": "approved"');
        expect(state).not.toContain(SECRET);
        expect(state).not.toContain(peer.token);
        expect(await dir.ok('show', '-json')).not.toContain(SECRET);
      }, 240_000);

      it('binds exactly the provider’s own schema (terraform providers schema -json)', async () => {
        const schema = JSON.parse(await dir.ok('providers', 'schema', '-json')) as {
          provider_schemas: Record<
            string,
            {
              provider: { block: { attributes: Record<string, { required?: boolean }> } };
              resource_schemas: Record<
                string,
                {
                  block: {
                    attributes: Record<
                      string,
                      { required?: boolean; computed?: boolean; optional?: boolean }
                    >;
                  };
                }
              >;
            }
          >;
        };
        const ours = schema.provider_schemas['registry.terraform.io/peering-operator/peering'];
        // Every argument the hand-written bindings can write, set once.
        const bound = new TerraformStack(Testing.app(), 'bindings');
        new PeeringProvider(bound, 'p', {
          alias: 'a',
          apiUrl: 'https://x.example/v0.1',
          localAsn: 1,
          token: 't',
          requestTimeout: '1s',
        });
        new PeeringSessionResource(bound, 'r', {
          apiUrl: 'https://x.example/v0.1',
          localAsn: 1,
          peerAsn: 2,
          location: 'pdb:ix:1',
          localIp: '192.0.2.1',
          peerIp: '192.0.2.2',
          peerType: 'public',
          localBgpRole: 4,
          peerBgpRole: 4,
          localInsertAsn: true,
          peerInsertAsn: true,
          localMonitoringSession: false,
          peerMonitoringSession: false,
          sessionSecret: 's',
          sessionSecretVersion: 1,
          waitForStatus: 'established',
          waitTimeout: '1m',
        });
        const json = JSON.parse(Testing.synth(bound)) as {
          provider: { peering: Record<string, unknown>[] };
          resource: { peering_session: Record<string, Record<string, unknown>> };
        };
        const written = Object.keys(json.resource.peering_session['r'] ?? {}).sort();
        const attributes = ours?.resource_schemas['peering_session']?.block.attributes ?? {};
        const arguments_ = Object.entries(attributes)
          .filter(([, a]) => a.required || a.optional)
          .map(([name]) => name)
          .sort();
        expect(written).toEqual(arguments_);
        const providerArguments = Object.keys(ours?.provider.block.attributes ?? {}).sort();
        expect(
          Object.keys(json.provider.peering[0] ?? {})
            .filter((k) => k !== 'alias')
            .sort(),
        ).toEqual(providerArguments);
      }, 60_000);

      it('plans nothing after a refresh, from the JSON and from `synth --hcl` alike', async () => {
        expect(await dir.ok('plan', '-input=false', '-detailed-exitcode')).toMatch(/No changes/);
        dir.write(stack(both), { hcl: true });
        expect(await dir.ok('plan', '-input=false', '-detailed-exitcode')).toMatch(/No changes/);
        dir.write(stack(both));
      }, 120_000);

      it('de-peers a session deleted from the code, keeping the other', async () => {
        const v4 = await peer.find(CLOUDFLARE.v4, GOOGLE.v4[0]);
        dir.write(stack([AMS_IX_V6_PEER_ROLES]));
        const plan = await dir.ok('plan', '-input=false');
        expect(plan).toMatch(/peering_session\.peering_as13335_as15169_ix26_ams_ix_v4 will be destroyed/);
        expect(plan).toMatch(/Plan: 0 to add, 0 to change, 1 to destroy/);
        await dir.ok('apply', '-input=false', '-auto-approve');
        expect(await peer.statusOf(v4?.session_id as string)).toBe(404);
        expect((await peer.sessions()).map((s) => s.peer_ip)).toEqual([CLOUDFLARE.v6]);
      }, 120_000);

      it('destroys: nothing left at the peer, nothing in state', async () => {
        await dir.ok('destroy', '-input=false', '-auto-approve');
        expect(await peer.sessions()).toEqual([]);
        expect(await dir.ok('state', 'list')).toBe('');
      }, 120_000);
    },
    { peeringProvider: true, peeringctl: false },
  );
});
