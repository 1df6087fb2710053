import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteSessionStore } from '../../src/store/sqlite.js';
import { sessionStoreContract } from '../operator/support/session-store-contract.js';
import { sampleRequest, sampleTerms } from '../support/stored.js';

async function seed(store: SqliteSessionStore, peerIp: string): Promise<string> {
  const sessionId = randomUUID();
  await store.submit(sampleRequest(64501), [
    { sessionId, terms: sampleTerms({ peerIp }), status: 'approved' },
  ]);
  return sessionId;
}

/** A store on a fresh data folder, before each test or once for all (`each: false`). */
function freshStore(each: boolean): {
  store: () => SqliteSessionStore;
  dir: () => string;
  reopen: () => void;
} {
  let dir = '';
  let store: SqliteSessionStore | undefined;
  const open = () => {
    dir = mkdtempSync(join(tmpdir(), 'peering-store-'));
    store = new SqliteSessionStore(dir);
  };
  const close = async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  if (each) {
    beforeEach(open);
    afterEach(close);
  } else {
    beforeAll(open);
    afterAll(close);
  }
  return {
    store: () => store as SqliteSessionStore,
    dir: () => dir,
    reopen: () => {
      store = new SqliteSessionStore(dir);
    },
  };
}

describe('the embedded store', () => {
  const fresh = freshStore(true);

  test('a session read by id shows every later status change and its removal', async () => {
    const id = await seed(fresh.store(), '10.99.100.1');
    expect((await fresh.store().get(id))?.status).toBe('approved');
    await fresh.store().setStatus(id, 'established');
    expect((await fresh.store().get(id))?.status).toBe('established');
    await fresh.store().setStatus(id, 'down', 'hold timer expired');
    expect(await fresh.store().get(id)).toMatchObject({ status: 'down', statusReason: 'hold timer expired' });
    expect(await fresh.store().remove([id], 'test')).toEqual([id]);
    expect(await fresh.store().get(id)).toBeUndefined();
  });

  test('a session handed out cannot be altered by its reader', async () => {
    const id = await seed(fresh.store(), '10.99.100.2');
    const session = await fresh.store().get(id);
    if (!session) throw new Error('seeded session missing');
    expect(() => Object.assign(session, { status: 'established' })).toThrow(TypeError);
    expect(() => Object.assign(session.terms, { peerIp: '10.99.100.9' })).toThrow(TypeError);
    expect(() => Object.assign(session.terms.location, { id: 'pdb:ix:2' })).toThrow(TypeError);
    expect(await fresh.store().get(id)).toMatchObject({
      status: 'approved',
      terms: { peerIp: '10.99.100.2' },
    });
  });

  test('what a server wrote is there after a restart, read fresh from the file', async () => {
    const id = await seed(fresh.store(), '10.99.100.3');
    await fresh.store().get(id);
    await fresh.store().setStatus(id, 'established');
    await fresh.store().close();
    fresh.reopen();
    expect((await fresh.store().get(id))?.status).toBe('established');
  });

  test('a second server on the same data folder is refused, naming the file', () => {
    // Waits out SQLite's 5 s busy timeout first: a restarting server gets that long for its predecessor to stop.
    expect(() => new SqliteSessionStore(fresh.dir())).toThrow(
      `${join(fresh.dir(), 'sessions.sqlite3')} is in use by another process; each data directory belongs to one server`,
    );
  }, 15_000);
});

describe('the embedded store keeps the store contract', () => {
  sessionStoreContract(freshStore(false).store);
});
