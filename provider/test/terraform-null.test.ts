import 'cdktf/lib/testing/adapters/jest';
import './support/cdktf-matchers.js';
import { Testing, TerraformStack } from 'cdktf';
import { describeWithSample } from '../../controller/test/support/sample.js';
import { PeeringSession } from '../src/peering-session.js';
import { RetiredPeeringSession } from '../src/retired-peering-session.js';
import type { PeeringSessionProps } from '../src/session-props.js';
import { CLOUDFLARE, GOOGLE, cloudflareToGoogleV4 } from './support/ams-ix.js';
import { startPeerApi, type ListedSession, type PeerApi } from './support/peer-api.js';
import { TerraformDir, describeWithTerraform, nullProviderInMirror } from './support/terraform.js';

Testing.setupJest();

/**
 * The opt-in null_resource backing, with hashicorp/null built from Go modules into a filesystem mirror
 * (scripts/setup.d/40-terraform-null.sh): the same life as the terraform_data tests, against the same real
 * server.
 */
describeWithSample(
  'Terraform lifecycle on null_resource (hashicorp/null from the filesystem mirror)',
  (sampleDir) => {
    describeWithTerraform(
      'init from the mirror, plan, apply, change one field, plan, apply, decommission, retire, destroy',
      () => {
        let peer: PeerApi;
        let dir: TerraformDir;
        let first: { v4: ListedSession; v6: ListedSession };

        const v6 = (): PeeringSessionProps => ({
          ...cloudflareToGoogleV4(peer.url),
          localIp: CLOUDFLARE.v6,
          peerIp: GOOGLE.v6[0],
          backing: 'null_resource',
        });
        const stackWith = (build: (stack: TerraformStack) => void): TerraformStack => {
          const stack = new TerraformStack(Testing.app(), 'peering');
          build(stack);
          // @cdktf/provider-null asks for ~> 3.0; the only version Go modules can build here is 1.0.0.
          stack.addOverride('terraform.required_providers.null.version', nullProviderInMirror());
          return stack;
        };
        const v4 = (peerIp: string, decommissioned = false): PeeringSessionProps => ({
          ...cloudflareToGoogleV4(peer.url),
          peerIp,
          backing: 'null_resource',
          decommissioned,
        });

        beforeAll(async () => {
          peer = await startPeerApi(sampleDir);
          dir = TerraformDir.create({ env: { PEERING_API_TOKEN: peer.token }, nullMirror: true });
        });

        afterAll(async () => {
          await dir?.run('destroy', '-auto-approve');
          dir?.dispose();
          await peer?.stop();
        });

        it('installs hashicorp/null from the mirror and applies two sessions', async () => {
          dir.write(
            stackWith((stack) => {
              new PeeringSession(stack, 'v4', v4(GOOGLE.v4[0]));
              new PeeringSession(stack, 'v6', v6());
            }),
          );
          const init = await dir.ok('init');
          expect(init).toMatch(/Installing hashicorp\/null v1\.0\.0/);
          expect(await dir.ok('plan')).toMatch(/Plan: 2 to add, 0 to change, 0 to destroy/);
          await dir.ok('apply', '-auto-approve');
          const v4Session = await peer.find(CLOUDFLARE.v4, GOOGLE.v4[0]);
          const v6Session = await peer.find(CLOUDFLARE.v6, GOOGLE.v6[0]);
          expect(v4Session?.status).toBe('approved');
          expect(v6Session?.status).toBe('approved');
          first = { v4: v4Session!, v6: v6Session! };
        });

        it('plans a changed peer address as a replacement with a field-level diff, and applies it', async () => {
          dir.write(
            stackWith((stack) => {
              new PeeringSession(stack, 'v4', v4(GOOGLE.v4[1]));
              new PeeringSession(stack, 'v6', v6());
            }),
          );
          const plan = await dir.ok('plan');
          expect(plan).toContain('# null_resource.peering_as13335_as15169_ix26_v4 must be replaced');
          expect(plan).toMatch(/~ "peer_ip"\s+= "80\.249\.208\.247" -> "80\.249\.209\.100"/);
          expect(plan).toMatch(/Plan: 1 to add, 0 to change, 1 to destroy/);
          await dir.ok('apply', '-auto-approve');
          expect(await peer.statusOf(first.v4.session_id)).toBe(404);
          expect((await peer.find(CLOUDFLARE.v4, GOOGLE.v4[1]))?.status).toBe('approved');
        });

        it('de-peers a decommissioned session and a retired one', async () => {
          dir.write(
            stackWith((stack) => {
              new PeeringSession(stack, 'v4', v4(GOOGLE.v4[1], true));
              new RetiredPeeringSession(stack, 'v6', v6());
            }),
          );
          expect(await dir.ok('plan')).toMatch(/Plan: 0 to add, 0 to change, 2 to destroy/);
          await dir.ok('apply', '-auto-approve');
          expect(await peer.statusOf(first.v6.session_id)).toBe(404);
          expect(await peer.sessions()).toEqual([]);
          expect((await dir.ok('state', 'list')).trim()).toBe('');
        });

        it('destroys a live session: the server answers 404', async () => {
          dir.write(stackWith((stack) => new PeeringSession(stack, 'v4', v4(GOOGLE.v4[0]))));
          await dir.ok('apply', '-auto-approve');
          const created = await peer.find(CLOUDFLARE.v4, GOOGLE.v4[0]);
          expect(created?.status).toBe('approved');
          await dir.ok('destroy', '-auto-approve');
          expect(await peer.statusOf(created!.session_id)).toBe(404);
        });
      },
      { nullProvider: true },
    );
  },
);
