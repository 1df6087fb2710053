import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FieldError } from '../domain/errors.js';
import { naturalKey, type SessionKey, type SessionStatus, type SessionTerms } from '../domain/session.js';
import { ACCEPTED_STATES } from '../domain/time-window.js';
import type * as store from './store.js';

interface SessionRow {
  seq: number;
  session_id: string;
  request_id: string;
  terms: string;
  status: SessionStatus;
  status_reason: string | null;
  created_at: string;
  updated_at: string;
  accepted_at: string | null;
  created_by: string;
}

interface RequestRow {
  request_id: string;
  peer_asn: number;
  client_request_id: string | null;
  return_url: string | null;
  errors: string;
  session_ids: string;
  created_at: string;
  created_by: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS requests (
  request_id TEXT PRIMARY KEY,
  peer_asn INTEGER NOT NULL,
  client_request_id TEXT,
  return_url TEXT,
  errors TEXT NOT NULL,
  session_ids TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS requests_by_client_id ON requests (peer_asn, client_request_id)
  WHERE client_request_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS sessions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL UNIQUE,
  request_id TEXT NOT NULL,
  natural_key TEXT NOT NULL,
  peer_asn INTEGER NOT NULL,
  terms TEXT NOT NULL,
  status TEXT NOT NULL,
  status_reason TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  accepted_at TEXT,
  created_by TEXT NOT NULL,
  removed_at TEXT,
  removed_by TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS sessions_by_natural_key ON sessions (natural_key) WHERE removed_at IS NULL;
CREATE INDEX IF NOT EXISTS sessions_by_peer ON sessions (peer_asn, seq) WHERE removed_at IS NULL;
`;

/** Sessions kept decoded in memory for `GET /sessions/{id}`: about 1 KiB each, so at most ~20 MiB. */
const CACHED_SESSIONS = 20_000;

/**
 * The embedded store: one SQLite file in WAL mode with full fsync, so an acknowledged request survives a crash
 * and a crash mid-request leaves nothing of it. Removed sessions are kept (with who removed them) for audit.
 *
 * One process owns the file (SQLite's exclusive locking mode): a second `peering-operator` pointed at the same
 * data directory stops at start-up instead of sharing it. Because nothing else can write the file, sessions
 * read by id are cached decoded, and every write of this store drops what it changes from the cache.
 */
export class SqliteSessionStore implements store.SessionStore {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly dynamic = new Map<string, Database.Statement<unknown[], SessionRow>>();
  /** Read-through cache by session id, evicted oldest first; entries are frozen, so no caller can alter one. */
  private readonly cache = new Map<string, store.StoredSession>();

  constructor(
    dataDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (dataDir !== ':memory:') mkdirSync(dataDir, { recursive: true });
    const file = dataDir === ':memory:' ? ':memory:' : join(dataDir, 'sessions.sqlite3');
    this.db = new Database(file);
    try {
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('locking_mode = EXCLUSIVE');
      // The exclusive lock is taken by the first write transaction and held until close.
      this.db.exec(SCHEMA);
      migrate(this.db);
      this.db.exec('BEGIN IMMEDIATE; COMMIT');
    } catch (error) {
      this.db.close();
      if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
        throw new Error(`${file} is in use by another process; each data directory belongs to one server`);
      }
      throw error;
    }
    const db = this.db;
    this.statements = {
      insertRequest: db.prepare(
        `INSERT INTO requests (request_id, peer_asn, client_request_id, return_url, errors, session_ids, created_at, created_by)
         VALUES (@request_id, @peer_asn, @client_request_id, @return_url, @errors, @session_ids, @created_at, @created_by)`,
      ),
      requestByClientId: db.prepare<[number, string], RequestRow>(
        'SELECT * FROM requests WHERE peer_asn = ? AND client_request_id = ?',
      ),
      requestById: db.prepare<[string], RequestRow>('SELECT * FROM requests WHERE request_id = ?'),
      insertSession: db.prepare(
        `INSERT INTO sessions (session_id, request_id, natural_key, peer_asn, terms, status, created_at, updated_at, accepted_at, created_by)
         VALUES (@session_id, @request_id, @natural_key, @peer_asn, @terms, @status, @created_at, @created_at, @accepted_at, @created_by)`,
      ),
      byNaturalKey: db.prepare<[string], SessionRow>(
        'SELECT * FROM sessions WHERE natural_key = ? AND removed_at IS NULL',
      ),
      byId: db.prepare<[string], SessionRow>(
        'SELECT * FROM sessions WHERE session_id = ? AND removed_at IS NULL',
      ),
      remove: db.prepare(
        `UPDATE sessions SET removed_at = ?, removed_by = ? WHERE session_id = ? AND removed_at IS NULL`,
      ),
      setStatus: db.prepare(
        `UPDATE sessions SET status = ?, status_reason = ?, updated_at = ?, accepted_at = coalesce(accepted_at, ?)
         WHERE session_id = ? AND removed_at IS NULL`,
      ),
      countByStatus: db.prepare<[number, string], { n: number }>(
        'SELECT count(*) AS n FROM sessions WHERE peer_asn = ? AND status = ? AND removed_at IS NULL',
      ),
      all: db.prepare<[], SessionRow>('SELECT * FROM sessions WHERE removed_at IS NULL ORDER BY seq'),
    };
  }

  async submit(request: store.StoredRequest, sessions: store.NewSession[]): Promise<store.SubmitResult> {
    return this.db
      .transaction((): store.SubmitResult => {
        if (request.clientRequestId !== undefined) {
          const seen = this.statements.requestByClientId.get(request.peerAsn, request.clientRequestId);
          if (seen) return { request: toRequest(seen), sessions: this.sessionsOf(seen), replayed: true };
        }
        const result = sessions.map((session) => {
          const key = naturalKey(session.terms);
          const existing = this.statements.byNaturalKey.get(key);
          if (existing) return toSession(existing);
          const acceptedAt = ACCEPTED_STATES.has(session.status) ? request.createdAt : undefined;
          this.statements.insertSession.run({
            session_id: session.sessionId,
            request_id: request.requestId,
            natural_key: key,
            peer_asn: session.terms.peerAsn,
            terms: JSON.stringify(session.terms),
            status: session.status,
            created_at: request.createdAt,
            accepted_at: acceptedAt ?? null,
            created_by: request.createdBy,
          });
          return {
            sessionId: session.sessionId,
            requestId: request.requestId,
            terms: session.terms,
            status: session.status,
            createdAt: request.createdAt,
            updatedAt: request.createdAt,
            acceptedAt,
            createdBy: request.createdBy,
          };
        });
        this.statements.insertRequest.run({
          request_id: request.requestId,
          peer_asn: request.peerAsn,
          client_request_id: request.clientRequestId ?? null,
          return_url: request.returnUrl ?? null,
          errors: JSON.stringify(request.errors),
          session_ids: JSON.stringify(result.map((session) => session.sessionId)),
          created_at: request.createdAt,
          created_by: request.createdBy,
        });
        return {
          request: { ...request, sessionIds: result.map((session) => session.sessionId) },
          sessions: result,
          replayed: false,
        };
      })
      .immediate();
  }

  async findRequest(peerAsns: readonly number[], id: string): Promise<store.StoredRequest | undefined> {
    const byServerId = this.statements.requestById.get(id);
    if (byServerId && peerAsns.includes(byServerId.peer_asn)) return toRequest(byServerId);
    for (const asn of peerAsns) {
      const byClientId = this.statements.requestByClientId.get(asn, id);
      if (byClientId) return toRequest(byClientId);
    }
    return undefined;
  }

  async get(sessionId: string): Promise<store.StoredSession | undefined> {
    return this.cache.get(sessionId) ?? this.load(sessionId);
  }

  /** One session read and decoded, into the cache. */
  private load(sessionId: string): store.StoredSession | undefined {
    const row = this.statements.byId.get(sessionId);
    if (!row) return undefined;
    const session = freeze(toSession(row));
    if (this.cache.size >= CACHED_SESSIONS) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(sessionId, session);
    return session;
  }

  async list(query: {
    peerAsns: readonly number[];
    requestId?: string | undefined;
    cursor?: string | undefined;
    limit: number;
  }): Promise<store.SessionPage> {
    const after = query.cursor === undefined ? 0 : Number(query.cursor);
    if (query.peerAsns.length === 0) return { sessions: [] };
    const marks = query.peerAsns.map(() => '?').join(',');
    // A request lists the sessions it was answered with, including ones that existed before it (same natural
    // key), not only those it created.
    // Only the ids and positions come from SQLite: building a JavaScript object for each row of `SELECT *` costs
    // several microseconds per column, most of a page's time, while the sessions themselves are mostly in the
    // decoded cache already (and go there when they are not).
    const sql =
      query.requestId === undefined
        ? `SELECT seq, session_id FROM sessions WHERE peer_asn IN (${marks}) AND removed_at IS NULL AND seq > ? ORDER BY seq LIMIT ?`
        : `SELECT s.seq, s.session_id FROM requests r, json_each(r.session_ids) j JOIN sessions s ON s.session_id = j.value
           WHERE r.request_id = ? AND s.peer_asn IN (${marks}) AND s.removed_at IS NULL AND s.seq > ?
           ORDER BY s.seq LIMIT ?`;
    const parameters =
      query.requestId === undefined ? [...query.peerAsns] : [query.requestId, ...query.peerAsns];
    const rows = this.prepared(sql)
      .raw(true)
      .all(...parameters, after, query.limit + 1) as unknown as [number, string][];
    const more = rows.length > query.limit;
    const page = more ? rows.slice(0, query.limit) : rows;
    const sessions: store.StoredSession[] = [];
    for (const [, sessionId] of page) {
      const session = this.cache.get(sessionId) ?? this.load(sessionId);
      if (session) sessions.push(session);
    }
    const last = page[page.length - 1];
    return { sessions, cursor: more && last ? String(last[0]) : undefined };
  }

  async remove(sessionIds: readonly string[], by: string): Promise<string[]> {
    const at = this.now().toISOString();
    for (const id of sessionIds) this.cache.delete(id);
    return this.db
      .transaction(() => sessionIds.filter((id) => this.statements.remove.run(at, by, id).changes === 1))
      .immediate();
  }

  async findByKey(key: SessionKey): Promise<store.StoredSession | undefined> {
    const row = this.statements.byNaturalKey.get(naturalKey(key));
    return row ? toSession(row) : undefined;
  }

  async setStatus(sessionId: string, status: SessionStatus, reason?: string): Promise<void> {
    this.cache.delete(sessionId);
    const at = this.now().toISOString();
    // The first entry into an accepted status (a person's approval) starts the time window; later ones do not.
    const accepted = ACCEPTED_STATES.has(status) ? at : null;
    this.statements.setStatus.run(status, reason ?? null, at, accepted, sessionId);
  }

  async countByStatus(peerAsn: number, status: SessionStatus): Promise<number> {
    return this.statements.countByStatus.get(peerAsn, status)?.n ?? 0;
  }

  async all(): Promise<store.StoredSession[]> {
    return this.statements.all.all().map(toSession);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Statements whose text depends on the number of ASNs, prepared once per shape. */
  private prepared(sql: string): Database.Statement<unknown[], SessionRow> {
    let statement = this.dynamic.get(sql);
    if (!statement) {
      statement = this.db.prepare<unknown[], SessionRow>(sql);
      this.dynamic.set(sql, statement);
    }
    return statement;
  }

  /** The sessions a request answered with, as they are now (removed ones left out). */
  private sessionsOf(request: RequestRow): store.StoredSession[] {
    const ids = JSON.parse(request.session_ids) as string[];
    return ids.flatMap((id) => {
      const row = this.statements.byId.get(id);
      return row ? [toSession(row)] : [];
    });
  }
}

function toSession(row: SessionRow): store.StoredSession {
  return {
    sessionId: row.session_id,
    requestId: row.request_id,
    terms: JSON.parse(row.terms) as SessionTerms,
    status: row.status,
    statusReason: row.status_reason ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    acceptedAt: row.accepted_at ?? undefined,
    createdBy: row.created_by,
  };
}

/**
 * Brings a data folder written by an older version up to the current schema. Sessions written before
 * `accepted_at` existed get their best-known acceptance: the last change for an `approved` one (the approval
 * itself), the request's time for the later statuses, as the time window counted before.
 */
function migrate(db: Database.Database): void {
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(sessions)').all();
  if (columns.some((column) => column.name === 'accepted_at')) return;
  const accepted = [...ACCEPTED_STATES].map((status) => `'${status}'`).join(', ');
  db.transaction(() => {
    db.exec('ALTER TABLE sessions ADD COLUMN accepted_at TEXT');
    db.exec(
      `UPDATE sessions SET accepted_at = CASE status WHEN 'approved' THEN updated_at ELSE created_at END
       WHERE status IN (${accepted})`,
    );
  }).immediate();
}

function freeze(session: store.StoredSession): store.StoredSession {
  Object.freeze(session.terms.location);
  Object.freeze(session.terms);
  return Object.freeze(session);
}

function toRequest(row: RequestRow): store.StoredRequest {
  return {
    requestId: row.request_id,
    peerAsn: row.peer_asn,
    clientRequestId: row.client_request_id ?? undefined,
    returnUrl: row.return_url ?? undefined,
    errors: JSON.parse(row.errors) as FieldError[],
    sessionIds: JSON.parse(row.session_ids) as string[],
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}
