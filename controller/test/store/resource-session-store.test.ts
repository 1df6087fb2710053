import { ResourceSessionStore } from '../../src/store/resource-session-store.js';
import { sessionStoreContract } from '../operator/support/session-store-contract.js';
import { temporaryEmbeddedBacking } from '../operator/support/network.js';

describe('the API server’s SessionStore on PeeringRequests and PeeringSessions (embedded store)', () => {
  const { backing, cleanup } = temporaryEmbeddedBacking();
  const store = new ResourceSessionStore(backing.requests, backing.sessions, 'peering');
  afterAll(async () => {
    await backing.close();
    cleanup();
  });

  sessionStoreContract(() => store);

  it('writes an Inbound PeeringRequest holding the whole answer, and one PeeringSession per session', async () => {
    const { items: requests } = await backing.requests.list({ namespace: 'peering' });
    const first = requests.find((r) => r.spec.inbound?.clientRequestId === 'change-1');
    expect(first?.spec).toMatchObject({ direction: 'Inbound', peerAsn: 64501 });
    // Not approved, and not written: `approved` is a person's field (an approval applied server-side).
    expect(first?.spec).not.toHaveProperty('approved');
    expect(first?.spec.sessions?.map((s) => s.initialState)).toEqual(['approved', 'pending']);
    expect(first?.spec.inbound?.rejections).toEqual([
      expect.objectContaining({
        field: 'sessions[1].peer_ip',
        code: 'PEER_IP_NOT_REGISTERED',
        reason: 'PeerIpNotRegistered',
      }),
    ]);
    expect(first?.status?.requestId).toBe(first?.spec.inbound?.requestId);
    const { items: sessions } = await backing.sessions.list({ namespace: 'peering' });
    const mine = sessions.filter(
      (s) => s.metadata.labels?.['peering.autopeer.dev/request'] === first?.metadata.name,
    );
    expect(mine.map((s) => s.metadata.finalizers)).toEqual([
      ['peering.autopeer.dev/de-peer'],
      ['peering.autopeer.dev/de-peer'],
    ]);
    expect(mine.every((s) => s.metadata.ownerReferences?.[0]?.uid === first?.metadata.uid)).toBe(true);
  });
});
