import { naturalKey, sessionTerms } from '../domain/session.js';
import {
  desiredSession,
  type DesiredSession,
  type ObservedSession,
  type RouterDriver,
} from '../router/driver.js';
import { systemClock, type Clock, type TimerHandle } from '../time/clock.js';
import { Periodic } from '../time/periodic.js';
import type { ResourceCollection, SecretReader } from '../operator/backing/resource-collection.js';
import { setConditions } from '../operator/resources/conditions.js';
import { isDeleting, objectKey } from '../operator/resources/object.js';
import {
  PeeringSessionSpecSchema,
  type PeeringSession,
  type RouterReport,
} from '../operator/resources/peering-session.js';
import type { Router, RouterDriverKind, RouterStatus } from '../operator/resources/router.js';
import { ROUTED_STATES, bgpStatus } from '../operator/reconcilers/session-decisions.js';
import { sameStatus } from '../operator/reconcilers/status.js';
import { DEFAULT_HEARTBEAT_MS } from '../operator/reconcilers/router-monitor.js';
import { Informer } from '../operator/runtime/informer.js';
import { silentLogger, type Logger } from '../operator/runtime/logger.js';
import { asFailure } from '../operator/reconcilers/status.js';

/** The field manager of everything the agent writes: `kubectl get -o yaml --show-managed-fields` tells who. */
export const AGENT_FIELD_MANAGER = 'peering-router-agent';

/** Writes part of an object's status (a JSON merge patch), as the Kubernetes collection does. */
export interface StatusPatcher {
  patchStatus(
    namespace: string,
    name: string,
    status: Record<string, unknown>,
    fieldManager: string,
  ): Promise<unknown>;
}

/** Applies part of an object's status (server-side apply), as the Kubernetes collection does. */
export interface StatusApplier {
  applyStatus(
    namespace: string,
    name: string,
    status: Record<string, unknown>,
    fieldManager: string,
  ): Promise<unknown>;
}

export interface RouterAgentDeps {
  sessions: ResourceCollection<PeeringSession> & StatusPatcher;
  routers: ResourceCollection<Router> & StatusApplier;
  secrets: SecretReader;
  /** The BGP daemon this agent sits beside. */
  driver: RouterDriver;
  clock?: Clock;
  logger?: Logger;
}

export interface RouterAgentOptions {
  /** The Router this agent drives, and its namespace (where its sessions are). */
  router: string;
  namespace: string;
  /** What the agent's driver is: a Router of another kind is refused, not half-configured. */
  driverKind: RouterDriverKind;
  /** This process, as the Router's status shows it (host or pod name). */
  identity: string;
  heartbeatMs?: number;
  /** How often BGP state is read and reported. Default 2 s. */
  observeMs?: number;
  /** How often the whole set is applied again even when nothing changed (Secrets may have). Default 60 s. */
  resyncMs?: number;
}

interface Applied {
  generation: number;
  /** The session's key on the router (absent when its spec could not be read). */
  routerKey?: string;
  configured: boolean;
  reason?: string;
  message?: string;
}

/**
 * The router agent: runs beside one BGP daemon and configures on it the sessions the operator assigned to its
 * Router (`status.router.name`), through the driver; reads BGP state back into each session's
 * `status.routerReport`; and keeps its Router's status (heartbeat, counts, `RouterConnected`). The operator
 * decides, the agent acts: it never assigns, approves or talks to a peer.
 *
 * On start it makes the router's managed sessions exactly the assigned ones (the driver removes only sessions of
 * ours, by its naming prefix). Stopping it leaves the sessions running: BGP does not depend on the agent.
 *
 * @example
 * const agent = new RouterAgent(deps, { router: 'edge1', namespace: 'peering', driverKind: 'bird', identity });
 * await agent.start();
 */
export class RouterAgent {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly sessionInformer: Informer<PeeringSession>;
  private readonly routerInformer: Informer<Router>;
  private readonly periodics: Periodic[] = [];
  private running = false;
  /** What the last apply did with each assigned session, by object key. */
  private readonly applied = new Map<string, Applied>();
  /** The last desired form of each session that could be built, by router key (a Secret read may fail later). */
  private readonly lastDesired = new Map<string, DesiredSession>();
  private applying: Promise<void> | undefined;
  private applyAgain = false;
  /** A resync is due (at start, every `resyncMs`, after a failure). */
  private wholeOwed = false;
  private applyTimer: TimerHandle | undefined;
  private counts = { assigned: 0, configured: 0, established: 0 };
  private observing: Promise<void> | undefined;
  private observeQueued: Promise<void> | undefined;
  /** The last report written per session (without its time), until the cache shows it. */
  private readonly reported = new Map<string, string>();
  private lastObservation: Date | undefined;

  constructor(
    private readonly deps: RouterAgentDeps,
    private readonly options: RouterAgentOptions,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.logger = (deps.logger ?? silentLogger).child({ router: options.router });
    const selection = { namespace: options.namespace };
    this.sessionInformer = new Informer(deps.sessions, selection, { clock: this.clock, logger: this.logger });
    this.routerInformer = new Informer(deps.routers, selection, { clock: this.clock, logger: this.logger });
  }

  /** Starts watching, applies the whole assigned set once, then reports and heartbeats until stopped. */
  async start(): Promise<void> {
    this.running = true;
    this.sessionInformer.start();
    this.routerInformer.start();
    await Promise.all([this.sessionInformer.waitForSync(), this.routerInformer.waitForSync()]);
    await this.apply(true);
    await this.observe().catch((error: unknown) => this.logger.warn('observation failed', { error }));
    await this.heartbeat().catch((error: unknown) => this.logger.warn('heartbeat failed', { error }));
    // Only what changes the router's configuration is a reason to apply: the sessions' reports (ours) and the
    // operator's conditions change far more often, and 10,000 of them must not mean 10,000 applies.
    const seen = new Map<string, string>();
    for (const session of this.sessionInformer.list())
      seen.set(objectKey(session.metadata), this.applyFingerprint(session));
    this.sessionInformer.on((event, session) => {
      const key = objectKey(session.metadata);
      const fingerprint = event === 'delete' ? '' : this.applyFingerprint(session);
      if ((seen.get(key) ?? '') === fingerprint) return;
      if (fingerprint === '') seen.delete(key);
      else seen.set(key, fingerprint);
      this.scheduleApply();
    });
    let routerGeneration = this.router()?.metadata.generation;
    this.routerInformer.on((event, router) => {
      if (router.metadata.name !== this.options.router) return;
      if (event === 'update' && router.metadata.generation === routerGeneration) return;
      routerGeneration = router.metadata.generation;
      this.scheduleApply();
    });
    this.every(this.options.observeMs ?? 2_000, () => this.observe());
    this.every(this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, () => this.heartbeat());
    this.every(this.options.resyncMs ?? 60_000, () => this.apply(true));
    this.logger.info('router agent started', { identity: this.options.identity });
  }

  /** Graceful: says goodbye on the Router (the operator marks its sessions unknown at once), leaves BGP running. */
  async stop(): Promise<void> {
    if (!this.running) return;
    await this.halt();
    await this.writeRouterStatus('False', 'AgentStopped', `agent ${this.options.identity} stopped`).catch(
      (error: unknown) => this.logger.warn('could not say goodbye on the Router', { error }),
    );
  }

  /** A crash, for tests: everything stops, nothing is said. */
  async kill(): Promise<void> {
    await this.halt();
  }

  private async halt(): Promise<void> {
    this.running = false;
    for (const periodic of this.periodics.splice(0)) periodic.stop();
    this.applyTimer?.cancel();
    this.sessionInformer.stop();
    this.routerInformer.stop();
    await this.applying;
  }

  private every(ms: number, work: () => Promise<void>): void {
    const periodic = new Periodic(this.clock, ms, work, (error) =>
      this.logger.warn('router agent step failed', { error }),
    );
    this.periodics.push(periodic);
    periodic.start();
  }

  /** Changes come in bursts (10,000 sessions approved at once): they wait a moment and go as one apply. */
  private scheduleApply(): void {
    if (!this.running || this.applyTimer) return;
    this.applyTimer = this.clock.setTimer(100, () => {
      this.applyTimer = undefined;
      void this.apply().catch((error: unknown) => this.logger.warn('apply failed', { error }));
    });
  }

  private router(): Router | undefined {
    return this.routerInformer.get(`${this.options.namespace}/${this.options.router}`);
  }

  /** What of a session the router's configuration depends on ('' when it is not ours to configure). */
  private applyFingerprint(session: PeeringSession): string {
    if (!this.isAssigned(session)) return '';
    return JSON.stringify([session.metadata.generation, session.status?.router?.maxPrefixes]);
  }

  private isAssigned(s: PeeringSession): boolean {
    return (
      s.status?.router?.name === this.options.router &&
      s.status.state !== undefined &&
      ROUTED_STATES.has(s.status.state) &&
      !isDeleting(s.metadata)
    );
  }

  /** The sessions the operator assigned to this Router, agreed and not being deleted. */
  private assigned(): PeeringSession[] {
    return this.sessionInformer.list().filter((s) => this.isAssigned(s));
  }

  /**
   * One apply at a time; a change during one makes another follow it. `whole`: a resync (at start and every
   * `resyncMs`), which makes the router's managed set exactly the assigned one, whatever this process knows;
   * otherwise a batch of the assigned sessions and of those no longer assigned since the last apply.
   */
  private apply(whole = false): Promise<void> {
    if (whole) this.wholeOwed = true;
    if (this.applying) {
      this.applyAgain = true;
      return this.applying;
    }
    const resync = this.wholeOwed;
    this.wholeOwed = false;
    this.applying = this.applyOnce(resync)
      .catch((error: unknown) => {
        // A failed apply is retried whole: what the router holds is no longer known.
        this.wholeOwed = true;
        this.logger.warn('apply failed', { error });
      })
      .finally(() => {
        this.applying = undefined;
        if (this.applyAgain && this.running) {
          this.applyAgain = false;
          void this.apply();
        }
      });
    return this.applying;
  }

  private async applyOnce(whole: boolean): Promise<void> {
    const router = this.router();
    if (!router) {
      // A Router deleted by mistake must not take every session off the router: nothing changes until it is back.
      this.logger.warn('the Router does not exist: nothing is applied', {
        namespace: this.options.namespace,
      });
      return;
    }
    if (router.spec.driver !== this.options.driverKind) {
      await this.writeRouterStatus(
        'False',
        'DriverMismatch',
        `Router ${router.metadata.name} says driver ${router.spec.driver}, this agent drives ${this.options.driverKind}`,
      );
      return;
    }
    const sessions = this.assigned();
    const desired = new Map<string, DesiredSession>();
    const refused = new Map<string, Applied>();
    /** Each session's key on the router, by object key, as the spec read here gives it. */
    const routerKeys = new Map<string, string>();
    for (const session of sessions) {
      const key = objectKey(session.metadata);
      const generation = session.metadata.generation ?? 0;
      const parsed = PeeringSessionSpecSchema.safeParse(session.spec);
      if (!parsed.success) {
        refused.set(key, {
          generation,
          configured: false,
          reason: 'InvalidSpec',
          message: parsed.error.message,
        });
        continue;
      }
      const terms = sessionTerms(parsed.data);
      const routerKey = naturalKey(terms);
      routerKeys.set(key, routerKey);
      try {
        const secret = terms.sessionSecretRef
          ? await this.deps.secrets.read(
              session.metadata.namespace ?? this.options.namespace,
              terms.sessionSecretRef.name,
              terms.sessionSecretRef.key,
            )
          : undefined;
        const maxPrefixes = session.status?.router?.maxPrefixes;
        const timers = router.spec.timers;
        const built = desiredSession(
          { ...terms, sessionSecret: secret },
          {
            name: parsed.data.sessionId,
            ...(maxPrefixes === undefined ? {} : { maxPrefixes }),
            ...(timers === undefined ? {} : { timers }),
          },
        );
        desired.set(routerKey, built);
        this.lastDesired.set(routerKey, built);
      } catch (error) {
        const failure = asFailure(error);
        refused.set(key, { generation, routerKey, configured: false, ...failure });
        // Kept as last configured: a Secret that cannot be read now must not take a running session down.
        const previous = this.lastDesired.get(routerKey);
        if (previous) desired.set(routerKey, previous);
      }
    }
    // What the last apply configured and is no longer desired goes (a resync removes it anyway).
    const gone = [...this.lastDesired.keys()].filter((key) => !desired.has(key));
    for (const key of gone) this.lastDesired.delete(key);
    const result = whole
      ? await this.deps.driver.sync([...desired.values()])
      : await this.deps.driver.apply({ upsert: [...desired.values()], remove: gone });
    const outcomes = new Map(result.sessions.map((s) => [s.key, s]));
    this.applied.clear();
    for (const session of sessions) {
      const key = objectKey(session.metadata);
      const generation = session.metadata.generation ?? 0;
      const refusal = refused.get(key);
      if (refusal) {
        this.applied.set(key, refusal);
        continue;
      }
      const routerKey = routerKeys.get(key) ?? '';
      const outcome = outcomes.get(routerKey);
      if (outcome?.outcome === 'configured')
        this.applied.set(key, { generation, routerKey, configured: true });
      else if (outcome?.outcome === 'rejected') {
        this.applied.set(key, {
          generation,
          routerKey,
          configured: false,
          reason: outcome.error.reason,
          message: outcome.error.message,
        });
      }
    }
    const removed = result.sessions.filter((s) => s.outcome === 'removed' && s.change === 'removed');
    if (removed.length > 0 || result.reloaded) {
      this.logger.info('router applied', { sessions: desired.size, removed: removed.map((s) => s.key) });
    }
    // The changes show in the sessions' reports at once, not at the next observation.
    await this.observe();
  }

  /**
   * One observation at a time: the timer's and an apply's would otherwise both find the same reports changed
   * (the cache has not seen the first one's writes yet) and write each twice. A call during one waits for it and
   * then for one more, which sees everything up to the call.
   */
  private observe(): Promise<void> {
    if (this.observing) {
      this.observeQueued ??= this.observing.then(() => {
        this.observeQueued = undefined;
        return this.observe();
      });
      return this.observeQueued;
    }
    this.observing = this.observeOnce().finally(() => (this.observing = undefined));
    return this.observing;
  }

  /** Reads BGP state and writes each assigned session's report where it changed. */
  private async observeOnce(): Promise<void> {
    const observed = new Map<string, ObservedSession>();
    for (const session of await this.deps.driver.observe()) observed.set(session.key, session);
    const now = new Date(this.clock.now());
    this.lastObservation = now;
    const counts = { assigned: 0, configured: 0, established: 0 };
    const writes: Promise<unknown>[] = [];
    for (const session of this.assigned()) {
      counts.assigned++;
      const key = objectKey(session.metadata);
      const applied = this.applied.get(key);
      if (!applied) continue;
      const seen = applied.routerKey === undefined ? undefined : observed.get(applied.routerKey);
      if (applied.configured) counts.configured++;
      if (applied.configured && seen?.state === 'established') counts.established++;
      const report: RouterReport = {
        router: this.options.router,
        observedGeneration: applied.generation,
        configured: applied.configured,
        ...(applied.reason === undefined ? {} : { reason: applied.reason }),
        ...(applied.message === undefined ? {} : { message: applied.message.slice(0, 4096) }),
        ...(applied.configured
          ? {
              bgp: seen
                ? bgpStatus(seen)
                : { state: 'unknown' as const, lastError: 'not running on the router' },
            }
          : {}),
        observedTime: now.toISOString(),
      };
      const { observedTime: _was, ...before } = session.status?.routerReport ?? { observedTime: '' };
      const { observedTime: _now, ...after } = report;
      if (sameStatus(before, after)) {
        this.reported.delete(key);
        continue;
      }
      // Written already, and the cache has not caught up: not again.
      const fingerprint = JSON.stringify(after);
      if (this.reported.get(key) === fingerprint) continue;
      this.reported.set(key, fingerprint);
      writes.push(
        this.deps.sessions
          .patchStatus(
            session.metadata.namespace ?? '',
            session.metadata.name,
            { routerReport: report },
            AGENT_FIELD_MANAGER,
          )
          .catch((error: unknown) => {
            this.reported.delete(key);
            this.logger.warn('could not report on a session', { session: key, error });
          }),
      );
    }
    await Promise.all(writes);
    this.counts = counts;
  }

  private heartbeat(): Promise<void> {
    return this.writeRouterStatus(
      'True',
      'AgentHeartbeat',
      `agent ${this.options.identity} reports every ${Math.round((this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS) / 1000)} s`,
    );
  }

  private async writeRouterStatus(status: 'True' | 'False', reason: string, message: string): Promise<void> {
    const router = this.router();
    if (!router) return;
    const update = setConditions(
      router.status?.conditions,
      [{ type: 'RouterConnected', status, reason, message }],
      router.metadata.generation,
      new Date(this.clock.now()),
    );
    // Server-side apply: the operator's Ready condition (and its AgentLost mark, which this takes over) merge
    // with ours by condition type, so neither writer erases the other's.
    const next: RouterStatus = {
      agent: { identity: this.options.identity, heartbeatTime: new Date(this.clock.now()).toISOString() },
      ...(this.lastObservation ? { lastObservationTime: this.lastObservation.toISOString() } : {}),
      sessions: this.counts,
      conditions: update.conditions.filter((c) => c.type === 'RouterConnected'),
    };
    await this.deps.routers.applyStatus(
      this.options.namespace,
      this.options.router,
      next as Record<string, unknown>,
      AGENT_FIELD_MANAGER,
    );
  }
}
