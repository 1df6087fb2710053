import { describeWithControlPlane } from '../../../test-support/kube/describe-with-control-plane.js';
import { KubeResourceCollection } from '../../src/operator/backing/kube/collection.js';
import type { KubeClient } from '../../src/operator/backing/kube/client.js';
import { KubeLeaseStore } from '../../src/operator/backing/kube/leases.js';
import { KubeSecretReader } from '../../src/operator/backing/kube/secrets.js';
import { LABEL, PEERING_REQUEST, PEERING_SESSION } from '../../src/operator/resources/api-group.js';
import type { PeeringRequest } from '../../src/operator/resources/peering-request.js';
import { ResourceSessionStore } from '../../src/store/resource-session-store.js';
import { sessionStoreContract } from './support/session-store-contract.js';
import type { PeeringSession } from '../../src/operator/resources/peering-session.js';
import { ResourceConflictError, SecretMissingError } from '../../src/operator/backing/errors.js';
import { BAD_MANIFESTS, badObject, goodRequest, goodSession } from './fixtures/manifests.js';
import { CRDS_DIR, eventually, kubectlApply, operatorKubeClient } from './support/cluster.js';

describeWithControlPlane('operator resources on a real API server', (plane) => {
  let namespace: string;
  let kube: KubeClient;
  let sessions: KubeResourceCollection<PeeringSession>;

  beforeAll(async () => {
    await plane().installCRDs(CRDS_DIR);
    namespace = await plane().newNamespace('resources');
    kube = await operatorKubeClient(plane(), namespace);
    sessions = new KubeResourceCollection<PeeringSession>(kube, PEERING_SESSION);
  });
  const clients: KubeClient[] = [];
  afterAll(async () => {
    await kube?.close();
    for (const client of clients) await client.close();
  });

  it('accepts the good manifests through kubectl apply', async () => {
    const out = await kubectlApply(plane(), [goodRequest(namespace, 'good'), goodSession(namespace, 'good')]);
    expect(out).toContain('peeringrequest.peering.autopeer.dev/good created');
  });

  it.each(BAD_MANIFESTS.map((b) => [b.name, b] as const))(
    'has kubectl apply refuse %s with the message the operator gives too',
    async (_name, bad) => {
      await expect(kubectlApply(plane(), [badObject(bad, namespace, 'bad')])).rejects.toThrow(bad.message);
    },
  );

  it('refuses a change to what identifies a session (CEL transition rule)', async () => {
    const created = await sessions.create(goodSession(namespace, 'immutable') as unknown as PeeringSession);
    await expect(
      sessions.update({ ...created, spec: { ...created.spec, peerIp: '192.0.2.9' } }),
    ).rejects.toThrow('peerIp is immutable');
    // An object-valued field, compared whole.
    await expect(
      sessions.update({
        ...created,
        spec: { ...created.spec, location: { id: 'pdb:ix:2', type: 'public' } },
      }),
    ).rejects.toThrow('location is immutable');
  });

  it('fails a write with a stale resourceVersion, and writes status apart from spec', async () => {
    const created = await sessions.create(goodSession(namespace, 'versions') as unknown as PeeringSession);
    const updated = await sessions.update({
      ...created,
      metadata: { ...created.metadata, labels: { a: 'b' } },
    });
    await expect(
      sessions.update({ ...created, metadata: { ...created.metadata, labels: { a: 'c' } } }),
    ).rejects.toBeInstanceOf(ResourceConflictError);
    const withStatus = await sessions.updateStatus({ ...updated, status: { state: 'approved' } });
    expect(withStatus.status?.state).toBe('approved');
    expect(withStatus.metadata.generation).toBe(updated.metadata.generation);
    await expect(
      sessions.updateStatus({ ...updated, status: { state: 'configured' } }),
    ).rejects.toBeInstanceOf(ResourceConflictError);
    const again = await sessions
      .create(goodSession(namespace, 'versions') as unknown as PeeringSession)
      .catch((e) => e);
    expect(again).toMatchObject({ alreadyExists: true });
  });

  it('lists by label across pages, and watches changes from the list version', async () => {
    const paged = new KubeResourceCollection<PeeringSession>(kube, PEERING_SESSION, { pageSize: 2 });
    for (let i = 0; i < 5; i++) {
      const session = goodSession(namespace, `listed-${i}`) as unknown as PeeringSession;
      session.metadata.labels = { [LABEL.peerAsn]: i < 3 ? '64501' : '64502' };
      await sessions.create(session);
    }
    const listed = await paged.list({ namespace, labels: { [LABEL.peerAsn]: '64501' } });
    expect(listed.items.map((s) => s.metadata.name).sort()).toEqual(['listed-0', 'listed-1', 'listed-2']);
    expect(listed.items[0]?.kind).toBe('PeeringSession');
    const both = await paged.list({ namespace, labels: { [LABEL.peerAsn]: ['64501', '64502'] } });
    expect(both.items).toHaveLength(5);

    const seen: string[] = [];
    const watch = sessions.watch(
      listed.resourceVersion,
      {
        event: (type, object) => seen.push(`${type} ${object.metadata.name}`),
        bookmark: () => undefined,
        error: (error) => seen.push(`error ${error.message}`),
        closed: () => seen.push('closed'),
      },
      { namespace },
    );
    try {
      await sessions.create(goodSession(namespace, 'watched') as unknown as PeeringSession);
      await sessions.delete(namespace, 'watched');
      await eventually(() => seen.length >= 2, 10_000, 'watch events');
      expect(seen).toEqual(['ADDED watched', 'DELETED watched']);
    } finally {
      watch.stop();
    }
  });

  it('keeps an object with a finalizer until the finalizer is removed', async () => {
    const session = goodSession(namespace, 'finalized') as unknown as PeeringSession;
    session.metadata.finalizers = ['peering.autopeer.dev/de-peer'];
    await sessions.create(session);
    expect(await sessions.delete(namespace, 'finalized')).toBe(true);
    const deleting = await sessions.get(namespace, 'finalized');
    expect(deleting?.metadata.deletionTimestamp).toEqual(expect.any(String));
    await sessions.update({
      ...(deleting as PeeringSession),
      metadata: { ...deleting!.metadata, finalizers: [] },
    });
    expect(await sessions.get(namespace, 'finalized')).toBeUndefined();
    expect(await sessions.delete(namespace, 'finalized')).toBe(false);
  });

  it('reads Secret keys, and says which Secret or key is missing', async () => {
    await kubectlApply(plane(), [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'peer-token', namespace },
        stringData: { token: 't0k3n' },
      },
    ]);
    const secrets = new KubeSecretReader(kube);
    expect(await secrets.read(namespace, 'peer-token', 'token')).toBe('t0k3n');
    await expect(secrets.read(namespace, 'peer-token', 'nope')).rejects.toThrow(
      `Secret ${namespace}/peer-token has no key "nope"`,
    );
    await expect(secrets.read(namespace, 'absent', 'token')).rejects.toBeInstanceOf(SecretMissingError);
  });

  it('creates and renews a Lease with resourceVersion preconditions', async () => {
    const leases = new KubeLeaseStore(kube, namespace, 'peering-operator');
    expect(await leases.get()).toBeUndefined();
    const created = await leases.create({
      holderIdentity: 'a',
      leaseDurationSeconds: 10,
      renewTime: '2026-01-01T00:00:00.000000Z',
    });
    const renewed = await leases.update({ ...created, renewTime: '2026-01-01T00:00:02.000000Z' });
    expect(renewed.renewTime).toBe('2026-01-01T00:00:02.000000Z');
    await expect(leases.update({ ...created, holderIdentity: 'b' })).rejects.toBeInstanceOf(
      ResourceConflictError,
    );
  });

  describe('the API server’s SessionStore on these resources', () => {
    let store: ResourceSessionStore;
    beforeAll(async () => {
      const inbound = await plane().newNamespace('inbound');
      const client = await operatorKubeClient(plane(), inbound);
      clients.push(client);
      store = new ResourceSessionStore(
        new KubeResourceCollection<PeeringRequest>(client, PEERING_REQUEST),
        new KubeResourceCollection<PeeringSession>(client, PEERING_SESSION),
        inbound,
      );
    });
    sessionStoreContract(() => store);
  });

  it('is refused what RBAC does not grant (the operator is no administrator)', async () => {
    await expect(kube.request('GET', `/api/v1/namespaces/${namespace}/secrets`)).rejects.toThrow(
      /forbidden/i,
    );
    await expect(kube.request('GET', '/api/v1/namespaces')).rejects.toThrow(/forbidden/i);
  });
});
