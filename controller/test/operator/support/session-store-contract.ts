import { randomUUID } from 'node:crypto';
import type { SessionTerms } from '../../../src/domain/session.js';
import type { NewSession, SessionStore, StoredRequest } from '../../../src/store/store.js';
import { sampleTerms } from '../../support/stored.js';

const terms = (peerAsn: number, octet: number, overrides: Partial<SessionTerms> = {}): SessionTerms =>
  sampleTerms({ localIp: `192.0.2.${octet}`, peerAsn, peerIp: `192.0.2.${octet + 100}`, ...overrides });

const request = (peerAsn: number, clientRequestId?: string): StoredRequest => ({
  requestId: randomUUID(),
  peerAsn,
  clientRequestId,
  errors: [{ name: 'sessions[1].peer_ip', errors: ['not registered'], code: 'PEER_IP_NOT_REGISTERED' }],
  sessionIds: [],
  createdAt: new Date().toISOString(),
  createdBy: 'noc <noc@example.net> via static',
});

const session = (t: SessionTerms, status: NewSession['status'] = 'approved'): NewSession => ({
  sessionId: randomUUID(),
  terms: t,
  status,
});

/**
 * What the API server relies on from any {@link SessionStore}, as jest tests: the SQLite store's behaviour,
 * asked of the resource-backed one. `store()` gives the store under test (one per suite).
 */
export function sessionStoreContract(store: () => SessionStore): void {
  it('records a request with its sessions and answers a replay of the client request id with the same', async () => {
    const first = await store().submit(request(64501, 'change-1'), [
      session(terms(64501, 1)),
      session(terms(64501, 2), 'pending'),
    ]);
    expect(first.replayed).toBe(false);
    expect(first.sessions.map((s) => s.status)).toEqual(['approved', 'pending']);
    expect(first.request.sessionIds).toEqual(first.sessions.map((s) => s.sessionId));
    const again = await store().submit(request(64501, 'change-1'), [session(terms(64501, 3))]);
    expect(again.replayed).toBe(true);
    expect(again.request.requestId).toBe(first.request.requestId);
    expect(again.sessions.map((s) => s.sessionId)).toEqual(first.sessions.map((s) => s.sessionId));
    expect(again.request.errors).toEqual(first.request.errors);
    expect(await store().get(first.sessions[0]!.sessionId)).toMatchObject({
      terms: { peerAsn: 64501, localIp: '192.0.2.1', peerIp: '192.0.2.101' },
      status: 'approved',
      createdBy: 'noc <noc@example.net> via static',
    });
  });

  it('answers a session whose natural key exists with the existing session', async () => {
    const first = await store().submit(request(64502), [session(terms(64502, 10))]);
    const second = await store().submit(request(64502), [
      session(terms(64502, 10)),
      session(terms(64502, 11)),
    ]);
    expect(second.sessions[0]?.sessionId).toBe(first.sessions[0]?.sessionId);
    expect(second.sessions).toHaveLength(2);
  });

  it('finds a live session by its natural key, in any address form, and not once removed', async () => {
    const [stored] = (
      await store().submit(request(64507), [session(terms(64507, 40, { localBgpRole: 4, peerBgpRole: 4 }))])
    ).sessions;
    const key = { peerAsn: 64507, location: 'pdb:ix:1', localIp: '192.0.2.40', peerIp: '192.0.2.140' };
    expect(await store().findByKey(key)).toMatchObject({
      sessionId: stored!.sessionId,
      terms: { localBgpRole: 4, peerBgpRole: 4 },
    });
    expect(await store().findByKey({ ...key, peerAsn: 64508 })).toBeUndefined();
    await store().remove([stored!.sessionId], 'test');
    expect(await store().findByKey(key)).toBeUndefined();
  });

  it('finds a request by our id and by the client id, only for its own peer', async () => {
    const { request: stored } = await store().submit(request(64503, 'ticket:42~a'), [
      session(terms(64503, 20)),
    ]);
    expect((await store().findRequest([64503], stored.requestId))?.requestId).toBe(stored.requestId);
    expect((await store().findRequest([64503], 'ticket:42~a'))?.requestId).toBe(stored.requestId);
    expect(await store().findRequest([64599], stored.requestId)).toBeUndefined();
    expect(await store().findRequest([64599], 'ticket:42~a')).toBeUndefined();
  });

  it('lists a peer’s sessions in a stable order, page by page, and by request', async () => {
    const created = await store().submit(
      request(64504),
      [1, 2, 3, 4, 5].map((i) => session(terms(64504, 30 + i))),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store().list({ peerAsns: [64504], cursor, limit: 2 });
      seen.push(...page.sessions.map((s) => s.sessionId));
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(seen.sort()).toEqual(created.sessions.map((s) => s.sessionId).sort());
    const byRequest = await store().list({
      peerAsns: [64504],
      requestId: created.request.requestId,
      limit: 100,
    });
    expect(byRequest.sessions).toHaveLength(5);
    expect((await store().list({ peerAsns: [64599], limit: 100 })).sessions).toEqual([]);
  });

  it('removes sessions from every read at once, and sets and counts statuses', async () => {
    const { sessions } = await store().submit(request(64505), [
      session(terms(64505, 40), 'pending'),
      session(terms(64505, 41), 'pending'),
    ]);
    expect(await store().countByStatus(64505, 'pending')).toBe(2);
    await store().setStatus(sessions[0]!.sessionId, 'approved', 'approved by a person');
    expect(await store().get(sessions[0]!.sessionId)).toMatchObject({
      status: 'approved',
      statusReason: 'approved by a person',
    });
    expect(await store().countByStatus(64505, 'pending')).toBe(1);
    expect(await store().remove([sessions[1]!.sessionId, randomUUID()], 'noc via static')).toEqual([
      sessions[1]!.sessionId,
    ]);
    expect(await store().get(sessions[1]!.sessionId)).toBeUndefined();
    expect((await store().all()).map((s) => s.sessionId)).not.toContain(sessions[1]!.sessionId);
  });

  it('keeps each session’s own ASNs when one request mixes several of ours and of the caller’s', async () => {
    const asns = [
      [64500, 64506],
      [64510, 64506],
      [64500, 64507],
      [64510, 64507],
    ] as const;
    const submitted = await store().submit(
      request(64506, 'mixed'),
      asns.map(([localAsn, peerAsn], i) => session(terms(peerAsn, 50 + i, { localAsn }))),
    );
    const ids = submitted.sessions.map((s) => s.sessionId);
    expect(submitted.sessions.map((s) => [s.terms.localAsn, s.terms.peerAsn])).toEqual(asns);
    for (const [i, [localAsn, peerAsn]] of asns.entries()) {
      expect(await store().get(ids[i]!)).toMatchObject({ terms: { localAsn, peerAsn } });
    }
    const ofOne = await store().list({ peerAsns: [64507], limit: 100 });
    expect(ofOne.sessions.map((s) => s.sessionId).sort()).toEqual([ids[2], ids[3]].sort());
    const replay = await store().submit(request(64506, 'mixed'), []);
    expect(replay.sessions.map((s) => [s.terms.localAsn, s.terms.peerAsn])).toEqual(asns);
  });
}
