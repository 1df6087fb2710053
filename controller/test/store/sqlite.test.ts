import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionTerms } from '../../src/domain/session.js';
import { SqliteSessionStore } from '../../src/store/sqlite.js';
import { sessionStoreContract } from '../operator/support/session-store-contract.js';

const terms = (peerIp: string): SessionTerms => ({
  localAsn: 64500,
  localIp: '10.99.0.1',
  peerAsn: 64501,
  peerIp,
  localInsertAsn: true,
  peerInsertAsn: true,
  localMonitoringSession: false,
  peerMonitoringSession: false,
  peerType: 'public',
  location: { id: 'pdb:ix:1', type: 'public' },
});

async function seed(store: SqliteSessionStore, peerIp: string): Promise<string> {
  const sessionId = randomUUID();
  await store.submit(
    {
      requestId: randomUUID(),
      peerAsn: 64501,
      errors: [],
      sessionIds: [],
      createdAt: new Date().toISOString(),
      createdBy: 'test',
    },
    [{ sessionId, terms: terms(peerIp), status: 'approved' }],
  );
  return sessionId;
}

describe('the embedded store', () => {
  let dir: string;
  let store: SqliteSessionStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'peering-store-'));
    store = new SqliteSessionStore(dir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a session read by id shows every later status change and its removal', async () => {
    const id = await seed(store, '10.99.100.1');
    expect((await store.get(id))?.status).toBe('approved');
    await store.setStatus(id, 'established');
    expect((await store.get(id))?.status).toBe('established');
    await store.setStatus(id, 'down', 'hold timer expired');
    expect(await store.get(id)).toMatchObject({ status: 'down', statusReason: 'hold timer expired' });
    expect(await store.remove([id], 'test')).toEqual([id]);
    expect(await store.get(id)).toBeUndefined();
  });

  test('a session handed out cannot be altered by its reader', async () => {
    const id = await seed(store, '10.99.100.2');
    const session = await store.get(id);
    if (!session) throw new Error('seeded session missing');
    expect(() => Object.assign(session, { status: 'established' })).toThrow(TypeError);
    expect(() => Object.assign(session.terms, { peerIp: '10.99.100.9' })).toThrow(TypeError);
    expect(() => Object.assign(session.terms.location, { id: 'pdb:ix:2' })).toThrow(TypeError);
    expect(await store.get(id)).toMatchObject({ status: 'approved', terms: { peerIp: '10.99.100.2' } });
  });

  test('what a server wrote is there after a restart, read fresh from the file', async () => {
    const id = await seed(store, '10.99.100.3');
    await store.get(id);
    await store.setStatus(id, 'established');
    await store.close();
    store = new SqliteSessionStore(dir);
    expect((await store.get(id))?.status).toBe('established');
  });

  test('a second server on the same data folder is refused, naming the file', () => {
    // Waits out SQLite's 5 s busy timeout first: a restarting server gets that long for its predecessor to stop.
    expect(() => new SqliteSessionStore(dir)).toThrow(
      `${join(dir, 'sessions.sqlite3')} is in use by another process; each data directory belongs to one server`,
    );
  }, 15_000);
});

describe('the embedded store keeps the store contract', () => {
  let dir: string;
  let store: SqliteSessionStore;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'peering-store-'));
    store = new SqliteSessionStore(dir);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  sessionStoreContract(() => store);
});
