import 'cdktf/lib/testing/adapters/jest';
import './support/cdktf-matchers.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import { describeWithSample } from '../../controller/test/support/sample.js';
import { PeeringSession } from '../src/peering-session.js';
import { defaultPeeringctlScript } from '../src/peeringctl-command.js';
import { RetiredPeeringSession } from '../src/retired-peering-session.js';
import type { PeeringSessionProps } from '../src/session-props.js';
import { CLOUDFLARE, GOOGLE, cloudflareToGoogleV4 } from './support/ams-ix.js';
import { startPeerApi, type PeerApi } from './support/peer-api.js';
import { TerraformDir, describeWithTerraform } from './support/terraform.js';

Testing.setupJest();

/**
 * The de-peering hazards of docs/terraform.md, each against our real API server (as Google) with real
 * terraform and peeringctl: what retires a session safely, what does not, and what a failed create leaves.
 */
describeWithSample('Retiring sessions and failed creates in Terraform', (sampleDir) => {
  describeWithTerraform('removed blocks, hand-over, and a retried create', () => {
    let peer: PeerApi;
    const dirs: TerraformDir[] = [];

    const workdir = (): TerraformDir => {
      const dir = TerraformDir.create({ env: { PEERING_API_TOKEN: peer.token } });
      dirs.push(dir);
      return dir;
    };
    const stackWith = (build: (stack: TerraformStack) => void): TerraformStack => {
      const stack = new TerraformStack(Testing.app(), 'peering');
      build(stack);
      return stack;
    };
    const session = (): PeeringSessionProps => cloudflareToGoogleV4(peer.url);

    beforeAll(async () => {
      peer = await startPeerApi(sampleDir);
    });

    afterEach(async () => {
      for (const dir of dirs.splice(0)) {
        await dir.run('destroy', '-auto-approve');
        dir.dispose();
      }
      // Sessions a scenario left on purpose (hand-over, the hazard) go through the API.
      for (const left of await peer.sessions()) {
        await fetch(`${peer.url}/sessions/${left.session_id}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${peer.token}` },
        });
      }
    });

    afterAll(async () => {
      await peer?.stop();
    });

    it('de-peers a session replaced by a RetiredPeeringSession (a removed block with the de-peer)', async () => {
      const dir = workdir();
      dir.write(stackWith((stack) => new PeeringSession(stack, 'v4', session())));
      await dir.ok('init');
      await dir.ok('apply', '-auto-approve');
      const created = await peer.find(CLOUDFLARE.v4, GOOGLE.v4[0]);
      expect(created?.status).toBe('approved');

      dir.write(stackWith((stack) => new RetiredPeeringSession(stack, 'v4', session())));
      const plan = await dir.ok('plan');
      expect(plan).toContain('# terraform_data.peering_as13335_as15169_ix26_v4 will be destroyed');
      expect(plan).toMatch(/Plan: 0 to add, 0 to change, 1 to destroy/);
      await dir.ok('apply', '-auto-approve');
      expect(await peer.statusOf(created!.session_id)).toBe(404);
      expect((await dir.ok('state', 'list')).trim()).toBe('');
    });

    it('(the hazard) leaves the session on the server when its code is merely deleted', async () => {
      const dir = workdir();
      dir.write(
        stackWith((stack) => {
          new PeeringSession(stack, 'v4', session());
          new PeeringSession(stack, 'v6', { ...session(), localIp: CLOUDFLARE.v6, peerIp: GOOGLE.v6[0] });
        }),
      );
      await dir.ok('init');
      await dir.ok('apply', '-auto-approve');
      const v4 = await peer.find(CLOUDFLARE.v4, GOOGLE.v4[0]);

      dir.write(
        stackWith(
          (stack) =>
            new PeeringSession(stack, 'v6', { ...session(), localIp: CLOUDFLARE.v6, peerIp: GOOGLE.v6[0] }),
        ),
      );
      const apply = await dir.ok('apply', '-auto-approve');
      expect(apply).toMatch(/1 destroyed/);
      // Terraform forgot it without running its de-peer: the peer still has it.
      expect(await peer.statusOf(v4!.session_id)).toBe(200);
    });

    it('hands a session over without de-peering it', async () => {
      const dir = workdir();
      dir.write(stackWith((stack) => new PeeringSession(stack, 'v4', session())));
      await dir.ok('init');
      await dir.ok('apply', '-auto-approve');
      const created = await peer.find(CLOUDFLARE.v4, GOOGLE.v4[0]);

      dir.write(stackWith((stack) => new RetiredPeeringSession(stack, 'v4', session(), { handOver: true })));
      const apply = await dir.ok('apply', '-auto-approve');
      expect(apply).toMatch(/will no longer be managed by Terraform|0 destroyed/);
      expect((await dir.ok('state', 'list')).trim()).toBe('');
      expect(await peer.statusOf(created!.session_id)).toBe(200);
    });

    it('leaves exactly one session when a create fails after the request and is retried', async () => {
      const dir = workdir();
      // The real peeringctl runs, so the request reaches the peer; then the command fails once, as a lost
      // answer or a killed process would make it. Terraform taints the resource and creates it again.
      const flaky = join(dir.path, 'flaky-peeringctl.sh');
      writeFileSync(
        flaky,
        '"$@"; status=$?\n' +
          'if [ ! -e "$0.failed" ]; then : > "$0.failed"; echo "lost the answer" >&2; exit 1; fi\n' +
          'exit $status\n',
      );
      const props = { ...session(), peeringctl: ['/bin/sh', flaky, 'node', defaultPeeringctlScript()] };
      dir.write(stackWith((stack) => new PeeringSession(stack, 'v4', props)));
      await dir.ok('init');

      const failed = await dir.run('apply', '-auto-approve');
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toMatch(/lost the answer/);
      const afterFailure = await peer.sessions();
      expect(afterFailure).toHaveLength(1);
      expect(await dir.ok('plan')).toContain('is tainted, so must be replaced');

      await dir.ok('apply', '-auto-approve');
      const afterRetry = await peer.sessions();
      expect(afterRetry.map((s) => s.session_id)).toEqual([afterFailure[0]?.session_id]);
    });

    it('fails the create with the variable’s name when the tokenEnv variable is not set, requesting nothing', async () => {
      const dir = workdir();
      dir.write(
        stackWith((stack) => new PeeringSession(stack, 'v4', { ...session(), tokenEnv: 'TOKEN_NOT_SET' })),
      );
      await dir.ok('init');
      const failed = await dir.run('apply', '-auto-approve');
      expect(failed.code).not.toBe(0);
      // Terraform wraps long lines.
      expect(failed.stderr.replace(/\s+/g, ' ')).toContain(
        'environment variable TOKEN_NOT_SET (tokenEnv) is not set',
      );
      expect(await peer.sessions()).toEqual([]);
    });
  });
});
