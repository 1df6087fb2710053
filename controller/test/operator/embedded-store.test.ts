import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedBacking } from '../../src/operator/backing/backing.js';
import { SqliteResourceStore } from '../../src/operator/backing/embedded/sqlite-resources.js';
import { PEERING_SESSION } from '../../src/operator/resources/api-group.js';
import { PeeringSessionSpecSchema } from '../../src/operator/resources/peering-session.js';
import type { PeeringSession } from '../../src/operator/resources/peering-session.js';
import {
  ResourceConflictError,
  ResourceGoneError,
  ResourceInvalidError,
} from '../../src/operator/backing/errors.js';
import { goodRequest, goodSession } from './fixtures/manifests.js';

describe('the embedded store has the Kubernetes semantics the reconcilers rely on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peering-embedded-'));
  const manifests = mkdtempSync(join(tmpdir(), 'peering-manifests-'));
  const backing = embeddedBacking(dir, manifests);
  afterAll(async () => {
    await backing.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(manifests, { recursive: true, force: true });
  });

  it('stamps versions and generations, writes spec and status apart, and refuses stale writes', async () => {
    const created = await backing.sessions.create(goodSession('ns', 'a') as unknown as PeeringSession);
    expect(created.metadata).toMatchObject({
      generation: 1,
      uid: expect.any(String),
      resourceVersion: expect.any(String),
    });
    const withStatus = await backing.sessions.updateStatus({ ...created, status: { state: 'approved' } });
    expect(withStatus.metadata.generation).toBe(1);
    await expect(
      backing.sessions.updateStatus({ ...created, status: { state: 'configured' } }),
    ).rejects.toBeInstanceOf(ResourceConflictError);
    const respec = await backing.sessions.update({
      ...withStatus,
      spec: { ...withStatus.spec, localBgpRole: 4, peerBgpRole: 4 },
    });
    expect(respec.metadata.generation).toBe(2);
    expect(respec.status).toEqual({ state: 'approved' });
    const relabelled = await backing.sessions.update({
      ...respec,
      metadata: { ...respec.metadata, labels: { x: 'y' } },
    });
    expect(relabelled.metadata.generation).toBe(2);
    await expect(
      backing.sessions.create(goodSession('ns', 'a') as unknown as PeeringSession),
    ).rejects.toMatchObject({ alreadyExists: true });
  });

  it('refuses what the CRD would refuse, naming the field (no API server checks it here)', async () => {
    const bad = goodSession('ns', 'b') as unknown as PeeringSession;
    bad.spec = { ...bad.spec, peerIp: '2001:db8::2' };
    await expect(backing.sessions.create(bad)).rejects.toThrow(
      'spec.peerIp: localIp and peerIp must be of the same address family',
    );
    const ok = await backing.sessions.create(goodSession('ns', 'c') as unknown as PeeringSession);
    await expect(
      backing.sessions.update({ ...ok, spec: { ...ok.spec, peerIp: '192.0.2.9' } }),
    ).rejects.toBeInstanceOf(ResourceInvalidError);
  });

  it('holds a deleted object with finalizers until the last one goes', async () => {
    const session = goodSession('ns', 'd') as unknown as PeeringSession;
    session.metadata.finalizers = ['peering.autopeer.dev/de-peer'];
    await backing.sessions.create(session);
    expect(await backing.sessions.delete('ns', 'd')).toBe(true);
    const deleting = (await backing.sessions.get('ns', 'd')) as PeeringSession;
    expect(deleting.metadata.deletionTimestamp).toEqual(expect.any(String));
    await backing.sessions.update({ ...deleting, metadata: { ...deleting.metadata, finalizers: [] } });
    expect(await backing.sessions.get('ns', 'd')).toBeUndefined();
  });

  it('replays changes after a version to a watch, and answers 410 for versions it no longer keeps', async () => {
    const { resourceVersion } = await backing.sessions.list({ namespace: 'ns' });
    await backing.sessions.create(goodSession('ns', 'e') as unknown as PeeringSession);
    const seen: string[] = [];
    const watch = backing.sessions.watch(resourceVersion, {
      event: (type, o) => seen.push(`${type} ${o.metadata.name}`),
      bookmark: () => undefined,
      error: (e) => seen.push(e.name),
      closed: () => undefined,
    });
    await new Promise((r) => setImmediate(r));
    await backing.sessions.delete('ns', 'e');
    expect(seen).toEqual(['ADDED e', 'DELETED e']);
    watch.stop();

    // A store keeping only its last two changes cannot continue a watch from before them: relist.
    const small = new SqliteResourceStore(':memory:', undefined, 2);
    const sessions = small.collection<PeeringSession>(PEERING_SESSION, { spec: PeeringSessionSpecSchema });
    for (const name of ['f', 'g', 'h', 'i'])
      await sessions.create(goodSession('ns', name) as unknown as PeeringSession);
    const errors: Error[] = [];
    sessions.watch('1', {
      event: () => undefined,
      bookmark: () => undefined,
      error: (e) => errors.push(e),
      closed: () => undefined,
    });
    await new Promise((r) => setImmediate(r));
    expect(errors[0]).toBeInstanceOf(ResourceGoneError);
    small.close();
  });

  it('applies PeeringRequests and Secrets from a folder, reports bad documents by file, and removes what left it', async () => {
    writeFileSync(
      join(manifests, 'as64501.yaml'),
      [
        'apiVersion: v1\nkind: Secret\nmetadata: { name: peering-as64501, namespace: ns }\nstringData: { token: t0k3n }',
        JSON.stringify(goodRequest('ns', 'as64501')),
        'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: nope }',
      ].join('\n---\n'),
    );
    writeFileSync(
      join(manifests, 'broken.yaml'),
      JSON.stringify({ ...goodRequest('ns', 'broken'), spec: { localAsn: 1, peerAsn: 1 } }),
    );
    const first = await backing.manifests!.sync();
    expect(first.applied).toEqual(['ns/as64501']);
    expect(first.problems.map((p) => [p.file, p.message.slice(0, 40)])).toEqual([
      ['as64501.yaml#3', 'only peering.autopeer.dev/v1alpha1 Peeri'],
      ['broken.yaml#1', 'PeeringRequest ns/broken is invalid: spe'],
    ]);
    expect(await backing.secrets.read('ns', 'peering-as64501', 'token')).toBe('t0k3n');
    expect((await backing.manifests!.sync()).applied).toEqual([]);
    unlinkSync(join(manifests, 'as64501.yaml'));
    expect((await backing.manifests!.sync()).removed).toEqual(['ns/as64501']);
    await expect(backing.secrets.read('ns', 'peering-as64501', 'token')).rejects.toThrow(
      'does not exist in the manifests',
    );
  });

  it('applies PeeringApprovals from the folder too (validated like the CRD), and removes one that left it', async () => {
    const approval = {
      apiVersion: 'peering.autopeer.dev/v1alpha1',
      kind: 'PeeringApproval',
      metadata: { name: 'as64503', namespace: 'ns' },
      spec: {
        peerAsn: 64503,
        sessions: [{ location: 'pdb:ix:1', localIp: '192.0.2.1', peerIp: '192.0.2.3' }],
      },
    };
    writeFileSync(join(manifests, 'approval.yaml'), JSON.stringify(approval));
    // Neither a request nor sessions: refused with the CRD's rule, the good one still applies.
    writeFileSync(
      join(manifests, 'everything.yaml'),
      JSON.stringify({
        ...approval,
        metadata: { name: 'everything', namespace: 'ns' },
        spec: { peerAsn: 64503 },
      }),
    );
    const first = await backing.manifests!.sync();
    expect(first.applied).toEqual(['PeeringApproval/ns/as64503']);
    // (The earlier test's broken.yaml is still in the folder and still reported.)
    expect(first.problems).toContainEqual({
      file: 'everything.yaml#1',
      message: expect.stringMatching(
        /^PeeringApproval ns\/everything is invalid: spec\.request: name the request/,
      ),
    });
    expect((await backing.approvals!.get('ns', 'as64503'))?.spec.peerAsn).toBe(64503);
    unlinkSync(join(manifests, 'approval.yaml'));
    unlinkSync(join(manifests, 'everything.yaml'));
    expect((await backing.manifests!.sync()).removed).toEqual(['PeeringApproval/ns/as64503']);
    expect(await backing.approvals!.get('ns', 'as64503')).toBeUndefined();
  });
});
