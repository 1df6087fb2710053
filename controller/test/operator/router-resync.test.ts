import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { naturalKey } from '../../src/domain/session.js';
import { embeddedBacking } from '../../src/operator/backing/backing.js';
import { desiredSession } from '../../src/router/driver.js';
import { RecordingRouterDriver } from '../../src/router/recording.js';
import { sampleTerms } from '../support/stored.js';
import { approvedInboundSession } from './fixtures/manifests.js';
import { startNetwork, type Network } from './support/network.js';

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  for (const deadline = Date.now() + ms; !condition() && Date.now() < deadline;) await sleep(50);
}

describe('the router after a crash (issue 13, ADR 0004 §5)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peering-resync-'));
  let network: Network | undefined;
  afterAll(async () => {
    await network?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('at start-up removes managed sessions no PeeringSession wants, keeps foreign protocols, and leaves desired sessions alone', async () => {
    const router = new RecordingRouterDriver();
    const start = (backing: ReturnType<typeof embeddedBacking>) =>
      startNetwork({ asn: 64500, callers: [64501], backing, router, namespace: 'ns' });

    // First life: one inbound session, approved, goes on the router.
    const first = embeddedBacking(dir);
    const session = approvedInboundSession();
    await first.sessions.create(session);
    const desiredKey = naturalKey(session.spec);
    network = await start(first);
    await until(() => router.configured().has(desiredKey));
    expect(router.configured().has(desiredKey)).toBe(true);
    await network.stop();
    network = undefined;

    // While the operator is down: a session of ours is left behind (its object deleted, or a crash), and
    // someone configures a protocol of their own on the same router.
    const orphan = desiredSession(sampleTerms({ peerIp: '10.99.100.77' }));
    await router.apply({ upsert: [orphan] });
    router.addForeignProtocol('upstream_transit');
    const before = (await router.observe()).find((s) => s.key === desiredKey);
    const callsBefore = router.calls.length;

    // Second life.
    network = await start(embeddedBacking(dir));
    await network.operator.whenReconciling();
    await until(() => !router.configured().has(orphan.key));

    expect([...router.configured().keys()]).toEqual([desiredKey]);
    expect(router.foreignProtocols()).toEqual(['upstream_transit']);
    // Not removed and re-added: no call since the restart removed it, and the router's view of it is unchanged.
    const since = router.calls.slice(callsBefore);
    expect(since.some((call) => call.method === 'apply' && call.batch.remove?.includes(desiredKey))).toBe(
      false,
    );
    expect((await router.observe()).find((s) => s.key === desiredKey)).toEqual(before);
  });
});
