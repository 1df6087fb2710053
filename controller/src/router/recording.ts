import type { PeeringError } from '../domain/errors.js';
import {
  validateDesiredSession,
  type ApplyResult,
  type BgpState,
  type DesiredSession,
  type ObservedSession,
  type RouterDriver,
  type SessionBatch,
  type SessionOutcome,
} from './driver.js';

/** One call the driver received, in order. */
export type RecordedCall =
  | { method: 'apply'; batch: SessionBatch; at: Date }
  | { method: 'sync'; desired: readonly DesiredSession[]; at: Date }
  | { method: 'observe'; at: Date };

/**
 * A {@link RouterDriver} with no router behind it, for tests and benchmarks of the layers above (operator,
 * receiver). It is a real implementation, not a mock: it validates sessions with the same rules as every driver,
 * keeps the configured set, answers `created`/`updated`/`unchanged`/`removed` exactly as a router driver must,
 * and records every call. With no BGP speaker there is no BGP: sessions are reported `idle` (configured, not
 * connected) until a test plays the other network with {@link RecordingRouterDriver.setBgpState}.
 *
 * @example
 * const router = new RecordingRouterDriver();
 * await router.apply({ upsert: [session] });
 * router.setBgpState(session.key, 'established');
 * expect(router.configured().get(session.key)?.peerAsn).toBe(64501);
 */
export class RecordingRouterDriver implements RouterDriver {
  readonly calls: RecordedCall[] = [];
  private readonly sessions = new Map<string, { desired: DesiredSession; observed: ObservedSession }>();
  private failures: PeeringError[] = [];
  /** Protocols someone else configured on the same router: never reported, changed or removed by the driver. */
  private readonly foreign = new Set<string>();

  constructor(private readonly clock: () => Date = () => new Date()) {}

  async apply(batch: SessionBatch): Promise<ApplyResult> {
    this.calls.push({ method: 'apply', batch, at: this.clock() });
    return this.applyNow(batch.upsert ?? [], batch.remove ?? []);
  }

  async sync(desired: readonly DesiredSession[]): Promise<ApplyResult> {
    this.calls.push({ method: 'sync', desired, at: this.clock() });
    const wanted = new Set(desired.map((s) => s.key));
    const stale = [...this.sessions.keys()].filter((key) => !wanted.has(key));
    return this.applyNow(desired, stale);
  }

  async observe(): Promise<ObservedSession[]> {
    this.calls.push({ method: 'observe', at: this.clock() });
    return [...this.sessions.values()].map(({ observed }) => ({ ...observed }));
  }

  /** The sessions configured now, by key. */
  configured(): ReadonlyMap<string, DesiredSession> {
    return new Map([...this.sessions].map(([key, { desired }]) => [key, desired]));
  }

  /**
   * Plays the other network: what {@link observe} reports for a configured session from now on. Throws for a
   * key that is not configured, as no router could report on it.
   */
  setBgpState(
    key: string,
    state: BgpState,
    details: { lastError?: string; routes?: { imported: number; exported: number } } = {},
  ): void {
    const entry = this.sessions.get(key);
    if (!entry) throw new RangeError(`session ${key} is not configured on this router`);
    entry.observed = {
      ...entry.observed,
      state,
      since: this.clock(),
      lastError: details.lastError,
      routes: details.routes ?? entry.observed.routes,
    };
  }

  /**
   * Plays another user of the router (a person, another tool): a protocol that is not ours. A driver manages only
   * its own sessions, so `apply`, `sync` and `observe` leave it out, as BIRD's driver leaves out every protocol
   * outside its include directory.
   */
  addForeignProtocol(name: string): void {
    this.foreign.add(name);
  }

  /** The foreign protocols, still all there. */
  foreignProtocols(): string[] {
    return [...this.foreign];
  }

  /**
   * Makes the next batch fail as a router that refuses its configuration does (nothing changes, the error is
   * thrown), to test how callers handle `ROUTER_REJECTED`.
   */
  failNextApply(error: PeeringError): void {
    this.failures.push(error);
  }

  private applyNow(upserts: readonly DesiredSession[], removals: readonly string[]): ApplyResult {
    const failure = this.failures.shift();
    if (failure) throw failure;
    const sessions: SessionOutcome[] = [];
    let changed = false;
    for (const session of upserts) {
      const valid = validateDesiredSession(session);
      if (valid instanceof Error) {
        sessions.push({ key: session.key, outcome: 'rejected', error: valid });
        continue;
      }
      const existing = this.sessions.get(session.key);
      if (existing && sameSession(existing.desired, session)) {
        sessions.push({ key: session.key, outcome: 'configured', change: 'unchanged' });
        continue;
      }
      changed = true;
      const observed: ObservedSession = existing?.observed ?? {
        key: session.key,
        protocol: `recorded_${this.sessions.size + 1}`,
        state: 'idle',
        since: this.clock(),
        routes: { imported: 0, exported: 0 },
      };
      this.sessions.set(session.key, { desired: structuredClone(session), observed });
      sessions.push({ key: session.key, outcome: 'configured', change: existing ? 'updated' : 'created' });
    }
    for (const key of removals) {
      const existed = this.sessions.delete(key);
      changed ||= existed;
      sessions.push({ key, outcome: 'removed', change: existed ? 'removed' : 'absent' });
    }
    return { sessions, reloaded: changed };
  }
}

function sameSession(a: DesiredSession, b: DesiredSession): boolean {
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}

/** Key order and `undefined` members must not make two equal sessions differ. */
function normalise(session: DesiredSession): unknown {
  return Object.fromEntries(
    Object.entries(session)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => [
        key,
        value !== null && typeof value === 'object' ? normalise(value as DesiredSession) : value,
      ]),
  );
}
