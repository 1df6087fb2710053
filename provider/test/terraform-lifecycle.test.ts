import 'cdktf/lib/testing/adapters/jest';
import './support/cdktf-matchers.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import { describeWithSample } from '../../controller/test/support/sample.js';
import { PeeringRequest } from '../src/peering-request.js';
import type { PeeringRequestProps } from '../src/session-props.js';
import { AMS_IX, CLOUDFLARE, GOOGLE, AMS_IX_V6_PEER_ROLES } from './support/ams-ix.js';
import { startPeerApi, type ListedSession, type PeerApi } from './support/peer-api.js';
import { TerraformDir, describeWithTerraform } from './support/terraform.js';

Testing.setupJest();

const SECRET = 'md5-secret-never-in-state-5e1d';

/**
 * The whole life of a peering in Terraform, for real: terraform 1.x runs our compiled peeringctl against our
 * Peering API server (as Google, AS15169, on loopback, real PeeringDB sample), on behalf of Cloudflare
 * (AS13335) with a JWT from the local issuer.
 */
describeWithSample('Terraform lifecycle of a PeeringRequest (terraform_data)', (sampleDir) => {
  describeWithTerraform('init, plan, apply, change one field, plan, apply, decommission, destroy', () => {
    let peer: PeerApi;
    let dir: TerraformDir;
    let first: { v4: ListedSession; v6: ListedSession };

    const stackFor = (change: Partial<{ v4PeerIp: string; v6Decommissioned: boolean }> = {}) => {
      const stack = new TerraformStack(Testing.app(), 'peering');
      const props: PeeringRequestProps = {
        localAsn: CLOUDFLARE.asn,
        peerAsn: GOOGLE.asn,
        apiUrl: peer.url,
        tokenEnv: 'PEERING_TOKEN_AS15169',
        backing: 'terraform_data',
        sessions: [
          {
            name: 'ams-ix-v4',
            location: AMS_IX,
            localIp: CLOUDFLARE.v4,
            peerIp: change.v4PeerIp ?? GOOGLE.v4[0],
            secretEnv: 'BGP_SECRET_AMS_IX',
          },
          { ...AMS_IX_V6_PEER_ROLES, decommissioned: change.v6Decommissioned ?? false },
        ],
      };
      new PeeringRequest(stack, 'google', props);
      return stack;
    };

    beforeAll(async () => {
      peer = await startPeerApi(sampleDir);
      // The token is only in the environment Terraform runs with, under the name tokenEnv gives.
      dir = TerraformDir.create({ env: { PEERING_TOKEN_AS15169: peer.token, BGP_SECRET_AMS_IX: SECRET } });
    });

    afterAll(async () => {
      // Leave nothing behind on the server, even when a step failed half-way.
      await dir?.run('destroy', '-auto-approve');
      dir?.dispose();
      await peer?.stop();
    });

    it('plans two sessions and applies them: both exist on the peer’s server', async () => {
      dir.write(stackFor());
      await dir.ok('init');
      const plan = await dir.ok('plan');
      expect(plan).toMatch(/Plan: 2 to add, 0 to change, 0 to destroy/);
      expect(plan).toContain('# terraform_data.peering_as13335_as15169_ix26_ams_ix_v4 will be created');

      await dir.ok('apply', '-auto-approve');
      const v4 = await peer.find(CLOUDFLARE.v4, GOOGLE.v4[0]);
      const v6 = await peer.find(CLOUDFLARE.v6, GOOGLE.v6[0]);
      expect(v4).toMatchObject({ local_asn: GOOGLE.asn, peer_asn: CLOUDFLARE.asn, location: { id: AMS_IX } });
      expect(v4?.status).toBe('approved');
      expect(v6?.status).toBe('approved');
      expect(await peer.sessions()).toHaveLength(2);
      first = { v4: v4!, v6: v6! };
    });

    it('keeps the secret and the token out of the state, which holds only their variable names', () => {
      const state = readFileSync(join(dir.path, 'terraform.tfstate'), 'utf8');
      expect(state).toContain('BGP_SECRET_AMS_IX');
      expect(state).toContain('PEERING_TOKEN_AS15169');
      expect(state).not.toContain(SECRET);
      expect(state).not.toContain(peer.token);
    });

    it('plans nothing when nothing changed, also after `synth --hcl` (ASNs stay numbers)', async () => {
      const json = await dir.run('plan', '-detailed-exitcode');
      expect(json.code).toBe(0);
      dir.write(stackFor(), { hcl: true });
      const hcl = await dir.run('plan', '-detailed-exitcode');
      expect(`${hcl.stdout}${hcl.stderr}`).toMatch(/No changes/);
      expect(hcl.code).toBe(0);
      dir.write(stackFor());
    });

    it('plans a changed peer address as a field-level replacement of that one session', async () => {
      dir.write(stackFor({ v4PeerIp: GOOGLE.v4[1] }));
      const plan = await dir.ok('plan');
      expect(plan).toContain('# terraform_data.peering_as13335_as15169_ix26_ams_ix_v4 must be replaced');
      expect(plan).toMatch(/~ peer_ip\s+= "80\.249\.208\.247" -> "80\.249\.209\.100"/);
      expect(plan).toMatch(/Plan: 1 to add, 0 to change, 1 to destroy/);
      expect(plan).not.toContain('ams_ix_v6 must be replaced');
    });

    it('applies the change: the old session is de-peered (404), the new one exists, the other is untouched', async () => {
      await dir.ok('apply', '-auto-approve');
      expect(await peer.statusOf(first.v4.session_id)).toBe(404);
      const moved = await peer.find(CLOUDFLARE.v4, GOOGLE.v4[1]);
      expect(moved?.status).toBe('approved');
      expect(moved?.session_id).not.toBe(first.v4.session_id);
      expect((await peer.find(CLOUDFLARE.v6, GOOGLE.v6[0]))?.session_id).toBe(first.v6.session_id);
      expect(await peer.sessions()).toHaveLength(2);
    });

    it('de-peers a decommissioned session, keeping the other', async () => {
      dir.write(stackFor({ v4PeerIp: GOOGLE.v4[1], v6Decommissioned: true }));
      const plan = await dir.ok('plan');
      expect(plan).toMatch(/Plan: 0 to add, 0 to change, 1 to destroy/);
      await dir.ok('apply', '-auto-approve');
      expect(await peer.statusOf(first.v6.session_id)).toBe(404);
      expect(await peer.sessions()).toHaveLength(1);
    });

    it('destroys: the peer’s server answers 404 for every session, and the state is empty', async () => {
      const remaining = await peer.sessions();
      expect(remaining).toHaveLength(1);
      await dir.ok('destroy', '-auto-approve');
      for (const session of remaining) expect(await peer.statusOf(session.session_id)).toBe(404);
      expect(await peer.sessions()).toEqual([]);
      expect((await dir.ok('state', 'list')).trim()).toBe('');
    });
  });
});
