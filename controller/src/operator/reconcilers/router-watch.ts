import { naturalKey, sessionTerms } from '../../domain/session.js';
import type { ObservedSession } from '../../router/driver.js';
import type { SessionRouter } from '../../router/session-router.js';
import type { Clock } from '../../time/clock.js';
import { Periodic } from '../../time/periodic.js';
import { isDeleting, objectKey } from '../resources/object.js';
import type { PeeringSession } from '../resources/peering-session.js';
import type { Logger } from '../runtime/logger.js';

/** How often the whole router is looked at for BGP changes; a session that goes down shows within about this. */
export const DEFAULT_ROUTER_WATCH_MS = 5_000;

/**
 * The sessions whose BGP state on the router is not what their status says: those the reconciler must look at
 * again. Pure: sessions (with their router key) and one observation of the whole router in, object keys out.
 *
 * @example
 * changedSessions([{ objectKey: 'ns/a', routerKey: 'k', bgpState: 'established' }], new Map()); // ['ns/a']
 */
export function changedSessions(
  sessions: readonly { objectKey: string; routerKey: string; bgpState: string | undefined }[],
  observed: ReadonlyMap<string, Pick<ObservedSession, 'state'>>,
): string[] {
  // A session the router does not run reads as `unknown`, as drivers report one configured but not running: a
  // status that already says so is not looked at again every few seconds.
  return sessions
    .filter((s) => s.bgpState !== undefined && (observed.get(s.routerKey)?.state ?? 'unknown') !== s.bgpState)
    .map((s) => s.objectKey);
}

export interface RouterWatchDeps {
  router: SessionRouter;
  /** The sessions as the informer holds them. */
  sessions: () => readonly PeeringSession[];
  enqueue: (key: string) => void;
  clock: Clock;
  logger: Logger;
  everyMs?: number | undefined;
}

/**
 * Watches the router for BGP changes with one observation of the whole router every few seconds, and sends only
 * the sessions whose state changed to the reconciler. Established sessions need no reconcile of their own to be
 * looked at (which at 10,000 sessions would be 10,000 reconciles a minute to notice one failure), and a session
 * that goes down shows in seconds, not at its next scheduled look.
 */
export class RouterWatch {
  private readonly periodic: Periodic;
  /** Router keys by session, kept while the spec (its generation) stays the same. */
  private readonly keys = new Map<string, { generation: number | undefined; routerKey: string }>();

  constructor(private readonly deps: RouterWatchDeps) {
    this.periodic = new Periodic(
      deps.clock,
      deps.everyMs ?? DEFAULT_ROUTER_WATCH_MS,
      () => this.tick(),
      (error) => deps.logger.warn('router watch: observation failed', { error }),
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  /** One look at the router; resolves with the sessions sent to the reconciler. */
  async tick(): Promise<string[]> {
    const observed = await this.deps.router.observeAll();
    const sessions = this.deps.sessions().filter((s) => !isDeleting(s.metadata));
    const changed = changedSessions(
      sessions.map((s) => ({
        objectKey: objectKey(s.metadata),
        routerKey: this.routerKeyOf(s),
        bgpState: s.status?.bgp?.state,
      })),
      observed,
    );
    for (const key of changed) this.deps.enqueue(key);
    return changed;
  }

  private routerKeyOf(session: PeeringSession): string {
    const key = objectKey(session.metadata);
    const known = this.keys.get(key);
    if (known && known.generation === session.metadata.generation) return known.routerKey;
    const routerKey = naturalKey(sessionTerms(session.spec));
    this.keys.set(key, { generation: session.metadata.generation, routerKey });
    return routerKey;
  }
}
