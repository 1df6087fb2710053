import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FilePeeringDb } from '../../src/peeringdb/files.js';
import { Receiver } from '../../src/receiver/receiver.js';
import { SqliteSessionStore } from '../../src/store/sqlite.js';
import { PEERINGDB_DIR } from '../operator/support/network.js';
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

describe('the time window of `peering-operator serve` (embedded store)', () => {
  const DAY = 86_400_000;
  const WEEK = 7 * DAY;
  let now = Date.parse('2026-06-01T00:00:00Z');
  const clock = () => new Date(now);
  let dir = '';
  let store: SqliteSessionStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'peering-store-'));
    store = new SqliteSessionStore(dir, clock);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const sweeper = async () =>
    new Receiver({
      store,
      peeringDb: await FilePeeringDb.load(PEERINGDB_DIR),
      policy: {
        ourAsns: [64500],
        approval: 'manual',
        denyAsns: [],
        maxPendingSessionsPerPeer: 10,
        maxSessionsPerRequest: 10,
      },
      now: clock,
    });

  test('a session approved late by hand gets a whole window from its approval (issue 13)', async () => {
    const sessionId = randomUUID();
    await store.submit(sampleRequest(64501, { createdAt: clock().toISOString() }), [
      { sessionId, terms: sampleTerms({ peerIp: '10.99.100.7' }), status: 'pending' },
    ]);
    now += 6 * DAY;
    await store.setStatus(sessionId, 'approved');
    expect((await store.get(sessionId))?.acceptedAt).toBe(clock().toISOString());
    const receiver = await sweeper();
    now += 2 * DAY; // eight days after the request, two after the approval
    expect(await receiver.expireSessions(WEEK)).toEqual([]);
    expect((await store.get(sessionId))?.status).toBe('approved');
    await store.setStatus(sessionId, 'configured');
    now += 5 * DAY + 1; // a week and a moment after the approval
    expect(await receiver.expireSessions(WEEK)).toEqual([sessionId]);
    expect((await store.get(sessionId))?.status).toBe('unestablished');
  });

  test('a session approved on arrival counts from its request', async () => {
    const sessionId = randomUUID();
    await store.submit(sampleRequest(64501, { createdAt: clock().toISOString() }), [
      { sessionId, terms: sampleTerms({ peerIp: '10.99.100.8' }), status: 'approved' },
    ]);
    expect((await store.get(sessionId))?.acceptedAt).toBe(clock().toISOString());
    const receiver = await sweeper();
    now += WEEK;
    expect(await receiver.expireSessions(WEEK)).toEqual([]);
    now += 1;
    expect(await receiver.expireSessions(WEEK)).toEqual([sessionId]);
  });

  test('a database from before acceptance was recorded opens, its agreed sessions accepted at their last change', async () => {
    await store.close();
    const old = join(dir, 'old');
    const file = new Database(join(mkdirOf(old), 'sessions.sqlite3'));
    file.exec(`CREATE TABLE sessions (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL UNIQUE, request_id TEXT NOT NULL,
      natural_key TEXT NOT NULL, peer_asn INTEGER NOT NULL, terms TEXT NOT NULL, status TEXT NOT NULL,
      status_reason TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, created_by TEXT NOT NULL,
      removed_at TEXT, removed_by TEXT)`);
    const insert = file.prepare(
      `INSERT INTO sessions (session_id, request_id, natural_key, peer_asn, terms, status, created_at, updated_at, created_by)
       VALUES (?, 'r', ?, 64501, ?, ?, '2026-01-01T00:00:00.000Z', '2026-01-05T00:00:00.000Z', 'test')`,
    );
    const approved = randomUUID();
    const pending = randomUUID();
    insert.run(approved, 'k1', JSON.stringify(sampleTerms({ peerIp: '10.99.100.9' })), 'approved');
    insert.run(pending, 'k2', JSON.stringify(sampleTerms({ peerIp: '10.99.100.10' })), 'pending');
    file.close();
    store = new SqliteSessionStore(old, clock);
    expect((await store.get(approved))?.acceptedAt).toBe('2026-01-05T00:00:00.000Z');
    expect((await store.get(pending))?.acceptedAt).toBeUndefined();
  });
});

function mkdirOf(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('the embedded store keeps the store contract', () => {
  sessionStoreContract(freshStore(false).store);
});
