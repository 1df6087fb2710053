import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithSample } from '../../controller/test/support/sample.js';
import { AMS_IX, CLOUDFLARE, GOOGLE } from './support/ams-ix.js';
import { startPeerApi, type ListedSession, type PeerApi } from './support/peer-api.js';
import { TerraformDir, describeWithTerraform } from './support/terraform.js';
import {
  PROVIDER_MODULE,
  acceptanceEnv,
  buildPeeringProvider,
  peeringConfig,
  runCommand,
  writeConfig,
  type SessionBlock,
} from './support/terraform-provider.js';

/**
 * Our Terraform provider, peering-operator/peering (provider/terraform-provider-peering), against our real
 * Peering API server as Google (AS15169) on the real PeeringDB sample, with Cloudflare (AS13335) running
 * Terraform: first its Go acceptance tests (terraform-plugin-testing), then the binary built into the
 * filesystem mirror by scripts/setup.d/41-terraform-peering.sh, driven by the terraform CLI.
 */

/** An IPv6 address in AMS-IX's peering LAN that is none of Google's. */
const NOT_GOOGLES_AMS_IX_V6 = '2001:7f8:1::a500:1:1';
const SECRET = 'tcp-md5-Secret-of-the-v6-session';

describeWithSample('Terraform provider peering-operator/peering', (sampleDir) => {
  describeWithTerraform(
    'Go unit and acceptance tests (TF_ACC=1) against our server',
    () => {
      let peer: PeerApi;

      beforeAll(async () => {
        peer = await startPeerApi(sampleDir);
      });

      afterAll(async () => {
        await peer?.stop();
      });

      it('go test ./... passes with every acceptance test run, none skipped', async () => {
        const result = await runCommand('go', ['test', '-count=1', '-v', './...'], {
          cwd: PROVIDER_MODULE,
          env: { ...acceptanceEnv(peer), GOFLAGS: '-mod=readonly' },
        });
        if (result.code !== 0) throw new Error(`go test exited ${result.code}:\n${result.output}`);
        for (const test of [
          'TestAccSessionCreateImportReplaceDestroy',
          'TestAccSessionAddressSpellingRolesAndDataSource',
          'TestAccSessionRefusedThenFixed',
          'TestAccSessionWithOtherTermsIsNeverAdopted',
          'TestAccSessionRemovedAtThePeerOrFromTheConfiguration',
          'TestAccSessionWaitForAStatusThatDoesNotCome',
          'TestAccLocations',
          'TestAccOAuth2ClientCredentials',
          'TestAccConfigurationErrorsNameTheAttribute',
        ]) {
          expect(result.output).toMatch(new RegExp(`--- PASS: ${test} `));
        }
        expect(result.output).not.toMatch(/--- SKIP/);
        // The acceptance tests clean up after themselves: every session they made is de-peered.
        expect(await peer.sessions()).toEqual([]);
      }, 300_000);
    },
    { peeringProvider: true, peeringctl: false },
  );

  describeWithTerraform(
    'terraform CLI with the provider installed from the filesystem mirror',
    () => {
      let peer: PeerApi;
      let dir: TerraformDir;
      const ids: Record<string, string> = {};

      const v4: SessionBlock = { name: 'v4', localIp: CLOUDFLARE.v4, peerIp: GOOGLE.v4[0] };
      const v6: SessionBlock = {
        name: 'v6',
        localIp: CLOUDFLARE.v6,
        peerIp: GOOGLE.v6[0],
        sessionSecret: SECRET,
        sessionSecretVersion: 1,
      };
      // Google's second port, with the roles someone else asked for outside Terraform.
      const second: SessionBlock = {
        name: 'second',
        localIp: CLOUDFLARE.v4,
        peerIp: GOOGLE.v4[1],
        roles: { local: 4, peer: 4 },
      };
      const configure = (...sessions: SessionBlock[]) => writeConfig(dir, peeringConfig(peer.url, sessions));
      const stateList = async () => (await dir.ok('state', 'list')).trim().split('\n').filter(Boolean);
      const idOf = async (address: string) => {
        const shown = JSON.parse(await dir.ok('show', '-json')) as {
          values?: { root_module?: { resources?: { address: string; values: Record<string, unknown> }[] } };
        };
        const found = shown.values?.root_module?.resources?.find((r) => r.address === address);
        if (!found) throw new Error(`${address} is not in the state`);
        return found.values.id as string;
      };
      /** Asks the peer for a session directly (REQUEST reading: local_* is Google), as someone outside Terraform. */
      const askDirectly = async (session: Record<string, unknown>): Promise<ListedSession> => {
        const response = await fetch(`${peer.url}/sessions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${peer.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ sessions: [session] }),
        });
        const body = (await response.json()) as { sessions: ListedSession[] };
        if (response.status !== 200 || body.sessions.length !== 1) {
          throw new Error(`POST /sessions: ${response.status} ${JSON.stringify(body)}`);
        }
        return body.sessions[0]!;
      };

      beforeAll(async () => {
        peer = await startPeerApi(sampleDir);
        await buildPeeringProvider();
        dir = TerraformDir.create({ env: { PEERING_API_TOKEN: peer.token }, peeringMirror: true });
      }, 300_000);

      afterAll(async () => {
        await dir?.run('destroy', '-auto-approve');
        dir?.dispose();
        await peer?.stop();
      });

      it('installs the provider from the mirror, applies two sessions, then plans no changes', async () => {
        configure(v4, v6);
        expect(await dir.ok('init')).toMatch(/Installing peering-operator\/peering v0\.1\.0/);
        expect(await dir.ok('plan')).toMatch(/Plan: 2 to add, 0 to change, 0 to destroy/);
        await dir.ok('apply', '-auto-approve');
        for (const [name, cloudflareIp, googleIp] of [
          ['v4', CLOUDFLARE.v4, GOOGLE.v4[0]],
          ['v6', CLOUDFLARE.v6, GOOGLE.v6[0]],
        ] as const) {
          const listed = await peer.find(cloudflareIp, googleIp);
          expect(listed).toMatchObject({
            status: 'approved',
            peer_asn: CLOUDFLARE.asn,
            local_asn: GOOGLE.asn,
          });
          ids[name] = listed!.session_id;
          expect(await idOf(`peering_session.${name}`)).toBe(listed!.session_id);
        }
        expect(await dir.ok('plan', '-detailed-exitcode')).toMatch(/No changes\./);
      });

      it('keeps the write-only secret out of the plan, the state and terraform show -json', async () => {
        const shown = await dir.ok('show', '-json');
        const state = readFileSync(join(dir.path, 'terraform.tfstate'), 'utf8');
        const plan = await dir.ok('plan');
        for (const text of [shown, state, plan]) expect(text).not.toContain(SECRET);
        const resources = (
          JSON.parse(shown) as {
            values: { root_module: { resources: { name: string; values: Record<string, unknown> }[] } };
          }
        ).values.root_module.resources;
        const values = resources.find((r) => r.name === 'v6')!.values;
        expect(values.session_secret).toBeNull();
        expect(values.session_secret_version).toBe(1);
      });

      it('plans a session deleted at the peer as one to create, and asks for it again', async () => {
        const response = await fetch(`${peer.url}/sessions/${ids.v4}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${peer.token}` },
        });
        expect(response.status).toBe(204);
        const plan = await dir.ok('plan');
        expect(plan).toContain('# peering_session.v4 will be created');
        expect(plan).toMatch(/Plan: 1 to add, 0 to change, 0 to destroy/);
        await dir.ok('apply', '-auto-approve');
        const again = await peer.find(CLOUDFLARE.v4, GOOGLE.v4[0]);
        expect(again?.status).toBe('approved');
        expect(again?.session_id).not.toBe(ids.v4);
        ids.v4 = again!.session_id;
      });

      it('de-peers a session removed from the configuration', async () => {
        configure(v4);
        const plan = await dir.ok('plan');
        expect(plan).toContain('# peering_session.v6 will be destroyed');
        await dir.ok('apply', '-auto-approve');
        expect(await peer.statusOf(ids.v6!)).toBe(404);
        expect(await stateList()).toEqual(['peering_session.v4']);
      });

      it('imports a session by id, after which the same configuration plans no changes', async () => {
        await dir.ok('state', 'rm', 'peering_session.v4');
        expect(await dir.ok('plan')).toContain('# peering_session.v4 will be created');
        await dir.ok('import', 'peering_session.v4', ids.v4!);
        expect(await dir.ok('plan', '-detailed-exitcode')).toMatch(/No changes\./);
        expect(await idOf('peering_session.v4')).toBe(ids.v4);
      });

      it('imports a session by natural key (location, local_ip, peer_ip)', async () => {
        await dir.ok('state', 'rm', 'peering_session.v4');
        await dir.ok('import', 'peering_session.v4', `${AMS_IX},${CLOUDFLARE.v4},${GOOGLE.v4[0]}`);
        expect(await idOf('peering_session.v4')).toBe(ids.v4);
        expect(await dir.ok('plan', '-detailed-exitcode')).toMatch(/No changes\./);
      });

      it('never adopts a session that exists with other terms, and names the fields that differ', async () => {
        // Someone asked for Google's second port with RFC 9234 roles, outside Terraform.
        const direct = await askDirectly({
          local_asn: GOOGLE.asn,
          local_ip: GOOGLE.v4[1],
          peer_asn: CLOUDFLARE.asn,
          peer_ip: CLOUDFLARE.v4,
          local_bgp_role: 4,
          peer_bgp_role: 4,
          location: AMS_IX,
        });
        configure(v4, { ...second, roles: undefined });
        const refused = await dir.run('apply', '-auto-approve');
        expect(refused.code).not.toBe(0);
        const output = refused.stderr.replace(/\s+/g, ' ');
        expect(output).toContain(
          'Error: Session exists with other terms: local_bgp_role, peer_bgp_role (SESSION_EXISTS_WITH_OTHER_TERMS)',
        );
        expect(output).toContain(
          'local_bgp_role (the peer has 4 (peer), the configuration asks for no role)',
        );
        expect(output).toContain(`The peer already has session ${direct.session_id}`);
        expect(await stateList()).toEqual(['peering_session.v4']);
        // Asking for the terms the peer has adopts its session.
        configure(v4, second);
        await dir.ok('apply', '-auto-approve');
        expect(await idOf('peering_session.second')).toBe(direct.session_id);
      });

      it('leaves nothing behind when the peer refuses a session, and the fixed retry succeeds', async () => {
        const typo: SessionBlock = { name: 'v6', localIp: CLOUDFLARE.v6, peerIp: NOT_GOOGLES_AMS_IX_V6 };
        configure(v4, second, typo);
        const refused = await dir.run('apply', '-auto-approve');
        expect(refused.code).not.toBe(0);
        const output = refused.stderr.replace(/\s+/g, ' ');
        expect(output).toContain('Error: The peer refused the session: LOCAL_IP_NOT_OURS');
        expect(output).toContain(`peer_ip = "${NOT_GOOGLES_AMS_IX_V6}"`);
        expect(output).toContain('in this resource that is peer_ip');
        expect(await stateList()).toEqual(['peering_session.second', 'peering_session.v4']);
        configure(v4, second, { ...typo, peerIp: GOOGLE.v6[1] });
        await dir.ok('apply', '-auto-approve');
        expect((await peer.find(CLOUDFLARE.v6, GOOGLE.v6[1]))?.status).toBe('approved');
      });

      it('destroys every session: the peer has none left', async () => {
        // v4, the adopted second port, and the fixed v6.
        expect(await peer.sessions()).toHaveLength(3);
        await dir.ok('destroy', '-auto-approve');
        expect(await peer.sessions()).toEqual([]);
        expect(await stateList()).toEqual([]);
      });
    },
    { peeringProvider: true, peeringctl: false },
  );
});
