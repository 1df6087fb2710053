import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { z } from 'zod';
import type { KindNames } from '../../resources/api-group.js';
import type { Resource } from '../../resources/object.js';
import { firstSpecIssue, objectKey } from '../../resources/object.js';
import { brokenTransitionRules, type CrossFieldRule } from '../../resources/rules.js';
import {
  ResourceConflictError,
  ResourceGoneError,
  ResourceInvalidError,
  ResourceNotFoundError,
} from '../errors.js';
import type {
  ListResult,
  ResourceCollection,
  Selection,
  WatchEventType,
  WatchHandle,
  WatchHandlers,
} from '../resource-collection.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS resources (
  kind TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (kind, namespace, name)
);
CREATE TABLE IF NOT EXISTS versions (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
INSERT OR IGNORE INTO versions (id, version) VALUES (1, 0);
`;

interface Change {
  version: number;
  kind: string;
  type: WatchEventType;
  object: Resource<unknown, unknown>;
}

/** How the embedded store checks one kind, since no API server does it here. */
export interface KindValidation {
  spec: z.ZodType;
  transitionRules?: readonly CrossFieldRule<never>[];
}

/**
 * The embedded resource store of standalone mode: our resources in one SQLite file with the semantics of the
 * Kubernetes API that the reconcilers rely on — resourceVersion preconditions, spec and status written apart,
 * `generation` moving with the spec, finalizers holding deletion, and list + watch for informers (changes kept
 * in memory for watches that start from a recent version; older ones get 410 Gone and relist, as in a cluster).
 *
 * @example
 * const store = new SqliteResourceStore('/var/lib/peering-operator');
 * const sessions = store.collection<PeeringSession>(PEERING_SESSION, { spec: PeeringSessionSpecSchema });
 */
export class SqliteResourceStore {
  private readonly db: Database.Database;
  private readonly changes: Change[] = [];
  private readonly watchers = new Set<{
    kind: string;
    from: number;
    selection: Selection;
    handlers: WatchHandlers<never>;
  }>();

  constructor(
    dataDir: string,
    private readonly now: () => Date = () => new Date(),
    private readonly keepChanges = 50_000,
  ) {
    if (dataDir !== ':memory:') mkdirSync(dataDir, { recursive: true });
    this.db = new Database(dataDir === ':memory:' ? ':memory:' : join(dataDir, 'resources.sqlite3'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
  }

  collection<T extends Resource<unknown, unknown>>(
    names: KindNames,
    validation: KindValidation,
  ): ResourceCollection<T> {
    return new SqliteCollection<T>(this, names, validation);
  }

  close(): void {
    for (const watcher of this.watchers) watcher.handlers.closed();
    this.watchers.clear();
    this.db.close();
  }

  /** @internal */
  version(): number {
    return (this.db.prepare('SELECT version FROM versions WHERE id = 1').get() as { version: number })
      .version;
  }

  /** @internal */
  read<T>(kind: string, namespace: string, name: string): T | undefined {
    const row = this.db
      .prepare('SELECT body FROM resources WHERE kind = ? AND namespace = ? AND name = ?')
      .get(kind, namespace, name) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as T) : undefined;
  }

  /** @internal */
  all<T>(kind: string, namespace: string | undefined): T[] {
    const rows = (
      namespace === undefined || namespace === ''
        ? this.db.prepare('SELECT body FROM resources WHERE kind = ? ORDER BY namespace, name').all(kind)
        : this.db
            .prepare('SELECT body FROM resources WHERE kind = ? AND namespace = ? ORDER BY name')
            .all(kind, namespace)
    ) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as T);
  }

  /**
   * One atomic write: `mutate` gets the stored object (or undefined) and returns what to store (or `null` to
   * delete); the new version is stamped and watchers are told after the commit.
   * @internal
   */
  write<T extends Resource<unknown, unknown>>(
    kind: string,
    namespace: string,
    name: string,
    mutate: (current: T | undefined, version: number) => { next: T | null; type: WatchEventType } | undefined,
  ): T | undefined {
    const change = this.db
      .transaction((): Change | undefined => {
        const current = this.read<T>(kind, namespace, name);
        const version = this.version() + 1;
        const outcome = mutate(current, version);
        if (!outcome) return undefined;
        this.db.prepare('UPDATE versions SET version = ? WHERE id = 1').run(version);
        if (outcome.next === null) {
          this.db
            .prepare('DELETE FROM resources WHERE kind = ? AND namespace = ? AND name = ?')
            .run(kind, namespace, name);
          const gone = {
            ...(current as T),
            metadata: { ...(current as T).metadata, resourceVersion: String(version) },
          };
          return { version, kind, type: 'DELETED', object: gone };
        }
        const stored = {
          ...outcome.next,
          metadata: { ...outcome.next.metadata, resourceVersion: String(version) },
        };
        this.db
          .prepare(
            'INSERT OR REPLACE INTO resources (kind, namespace, name, version, body) VALUES (?, ?, ?, ?, ?)',
          )
          .run(kind, namespace, name, version, JSON.stringify(stored));
        return { version, kind, type: outcome.type, object: stored };
      })
      .immediate();
    if (!change) return undefined;
    this.changes.push(change);
    if (this.changes.length > this.keepChanges)
      this.changes.splice(0, this.changes.length - this.keepChanges);
    for (const watcher of this.watchers) {
      if (watcher.kind === kind && matches(change.object, watcher.selection)) {
        watcher.handlers.event(change.type, change.object as never);
      }
    }
    return change.type === 'DELETED' ? undefined : (change.object as T);
  }

  /** @internal */
  watch(kind: string, from: number, selection: Selection, handlers: WatchHandlers<never>): WatchHandle {
    const oldest = this.changes[0]?.version ?? this.version() + 1;
    if (from + 1 < oldest && from < this.version()) {
      queueMicrotask(() => handlers.error(new ResourceGoneError(`version ${from} is too old; relist`)));
      return { stop: () => undefined };
    }
    const watcher = { kind, from, selection, handlers };
    // Changes after `from` that happened before the watch began are delivered first, in order.
    const backlog = this.changes.filter(
      (c) => c.version > from && c.kind === kind && matches(c.object, selection),
    );
    queueMicrotask(() => {
      if (!this.watchers.has(watcher)) return;
      for (const change of backlog) handlers.event(change.type, change.object as never);
    });
    this.watchers.add(watcher);
    return { stop: () => this.watchers.delete(watcher) };
  }

  /** @internal */
  timestamp(): string {
    return this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }
}

class SqliteCollection<T extends Resource<unknown, unknown>> implements ResourceCollection<T> {
  constructor(
    private readonly store: SqliteResourceStore,
    readonly names: KindNames,
    private readonly validation: KindValidation,
  ) {}

  async get(namespace: string, name: string): Promise<T | undefined> {
    return this.store.read<T>(this.names.kind, namespace, name);
  }

  async list(selection: Selection = {}): Promise<ListResult<T>> {
    const version = this.store.version();
    const items = this.store
      .all<T>(this.names.kind, selection.namespace)
      .filter((o) => matches(o, selection));
    return { items, resourceVersion: String(version) };
  }

  watch(resourceVersion: string, handlers: WatchHandlers<T>, selection: Selection = {}): WatchHandle {
    return this.store.watch(
      this.names.kind,
      Number(resourceVersion || 0),
      selection,
      handlers as WatchHandlers<never>,
    );
  }

  async create(object: T): Promise<T> {
    this.validate(object, undefined);
    const { namespace, name } = object.metadata;
    const created = this.store.write<T>(this.names.kind, namespace, name, (current) => {
      if (current)
        throw new ResourceConflictError(`${this.names.kind} ${namespace}/${name} already exists`, true);
      const { status: _ignored, ...rest } = object;
      return {
        type: 'ADDED',
        next: {
          ...rest,
          metadata: {
            ...object.metadata,
            uid: randomUUID(),
            generation: 1,
            creationTimestamp: this.store.timestamp(),
            deletionTimestamp: undefined,
          },
        } as T,
      };
    });
    return created as T;
  }

  async update(object: T): Promise<T> {
    const { namespace, name } = object.metadata;
    const current = this.store.read<T>(this.names.kind, namespace, name);
    if (current) this.validate(object, current);
    const written = this.store.write<T>(this.names.kind, namespace, name, (stored) => {
      const existing = this.precondition(stored, object);
      const specChanged = JSON.stringify(existing.spec) !== JSON.stringify(object.spec);
      const finalizers = object.metadata.finalizers ?? [];
      if (existing.metadata.deletionTimestamp && finalizers.length === 0)
        return { type: 'DELETED', next: null };
      return {
        type: 'MODIFIED',
        next: {
          ...existing,
          spec: object.spec,
          metadata: {
            ...existing.metadata,
            labels: object.metadata.labels,
            annotations: object.metadata.annotations,
            finalizers: object.metadata.finalizers,
            ownerReferences: object.metadata.ownerReferences,
            generation: (existing.metadata.generation ?? 1) + (specChanged ? 1 : 0),
          },
        },
      };
    });
    return (written ?? { ...object, metadata: { ...object.metadata, finalizers: [] } }) as T;
  }

  async updateStatus(object: T): Promise<T> {
    const { namespace, name } = object.metadata;
    const written = this.store.write<T>(this.names.kind, namespace, name, (stored) => {
      const existing = this.precondition(stored, object);
      return { type: 'MODIFIED', next: { ...existing, status: object.status } };
    });
    return written as T;
  }

  async delete(namespace: string, name: string): Promise<boolean> {
    let existed = false;
    this.store.write<T>(this.names.kind, namespace, name, (stored) => {
      if (!stored) return undefined;
      existed = true;
      if ((stored.metadata.finalizers ?? []).length === 0) return { type: 'DELETED', next: null };
      if (stored.metadata.deletionTimestamp) return undefined;
      return {
        type: 'MODIFIED',
        next: { ...stored, metadata: { ...stored.metadata, deletionTimestamp: this.store.timestamp() } },
      };
    });
    return existed;
  }

  private precondition(stored: T | undefined, object: T): T {
    const key = objectKey(object.metadata);
    if (!stored) throw new ResourceNotFoundError(`${this.names.kind} ${key} not found`);
    const version = object.metadata.resourceVersion;
    if (version !== undefined && version !== '' && version !== stored.metadata.resourceVersion) {
      throw new ResourceConflictError(
        `${this.names.kind} ${key}: the object has been modified; please apply your changes to the latest version`,
      );
    }
    return stored;
  }

  /** What CEL and the OpenAPI schema do in a cluster: refuse with the field and the rule. */
  private validate(object: T, old: T | undefined): void {
    const where = `${this.names.kind} ${objectKey(object.metadata)}`;
    const parsed = this.validation.spec.safeParse(object.spec);
    if (!parsed.success) {
      throw new ResourceInvalidError(`${where} is invalid: ${firstSpecIssue(parsed.error)}`);
    }
    if (old) {
      const oldParsed = this.validation.spec.safeParse(old.spec);
      const broken = oldParsed.success
        ? brokenTransitionRules(
            this.validation.transitionRules ?? [],
            parsed.data as never,
            oldParsed.data as never,
          )
        : [];
      if (broken[0])
        throw new ResourceInvalidError(
          `${where} is invalid: spec${broken[0].fieldPath ?? ''}: ${broken[0].message}`,
        );
    }
  }
}

function matches(object: Resource<unknown, unknown>, selection: Selection): boolean {
  if (selection.namespace && object.metadata.namespace !== selection.namespace) return false;
  for (const [key, wanted] of Object.entries(selection.labels ?? {})) {
    const value = object.metadata.labels?.[key];
    if (value === undefined) return false;
    if (typeof wanted === 'string' ? value !== wanted : !wanted.includes(value)) return false;
  }
  return true;
}
