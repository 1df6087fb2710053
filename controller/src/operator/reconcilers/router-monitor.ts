import type { Clock } from '../../time/clock.js';
import { Periodic } from '../../time/periodic.js';
import type { ResourceCollection } from '../backing/resource-collection.js';
import { setConditions, type DesiredCondition } from '../resources/conditions.js';
import { objectKey } from '../resources/object.js';
import type { PeeringSession } from '../resources/peering-session.js';
import type { Router } from '../resources/router.js';
import type { EventRecorder } from '../runtime/events.js';
import type { Logger } from '../runtime/logger.js';
import { routerConnection, routerSpecProblem, type Connection } from './router-assignment.js';
import { recordTransitions } from './status.js';

/** The agent sends a heartbeat this often; the operator gives up on it after three missed ones. */
export const DEFAULT_HEARTBEAT_MS = 5_000;
export const DEFAULT_AGENT_TIMEOUT_MS = 15_000;
/** How often the leader looks at the Routers' heartbeats. */
export const DEFAULT_MONITOR_MS = 2_000;

export interface RouterMonitorDeps {
  routers: ResourceCollection<Router>;
  /** The Routers and sessions as the informers hold them. */
  cachedRouters: () => readonly Router[];
  sessions: () => readonly PeeringSession[];
  enqueueSession: (key: string) => void;
  events: EventRecorder;
  clock: Clock;
  logger: Logger;
  agentTimeoutMs: number;
  everyMs?: number | undefined;
}

/**
 * The leader's watch on the router agents. An agent that stops sending heartbeats cannot say so itself: the
 * operator marks its Router `RouterConnected=False` (`AgentLost`) and sends the Router's sessions to the
 * reconciler, which makes their BGP state `unknown`. When the agent is back, its sessions are reconciled again.
 * A Router whose spec changed, appeared or went sends every session of its namespace (assignments may move).
 */
export class RouterMonitor {
  private readonly periodic: Periodic;
  /** What was last concluded per Router: connected or not, and the spec generation. */
  private readonly known = new Map<string, { connected: boolean; generation: number | undefined }>();

  constructor(private readonly deps: RouterMonitorDeps) {
    this.periodic = new Periodic(
      deps.clock,
      deps.everyMs ?? DEFAULT_MONITOR_MS,
      () => this.tick(),
      (error) => deps.logger.warn('router monitor failed', { error }),
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  /** A Router changed in the cache: a new spec, a new Router or a deleted one may move sessions. */
  routerChanged(event: 'add' | 'update' | 'delete', router: Router): void {
    const key = objectKey(router.metadata);
    const before = this.known.get(key);
    if (event === 'delete') this.known.delete(key);
    if (event !== 'update' || before?.generation !== router.metadata.generation) {
      if (event !== 'delete') {
        this.known.set(key, {
          connected: before?.connected ?? false,
          generation: router.metadata.generation,
        });
      }
      this.enqueueNamespace(router.metadata.namespace ?? '');
    }
  }

  /** One look at every Router; resolves with the Routers whose connection changed. */
  async tick(): Promise<string[]> {
    const now = this.deps.clock.now();
    const changed: string[] = [];
    for (const router of this.deps.cachedRouters()) {
      const key = objectKey(router.metadata);
      const connection = routerConnection(router, now, this.deps.agentTimeoutMs);
      const before = this.known.get(key);
      this.known.set(key, { connected: connection.connected, generation: router.metadata.generation });
      await this.writeConditions(router, connection);
      if (before?.connected !== connection.connected) {
        changed.push(key);
        this.enqueueAssigned(router);
      }
    }
    return changed;
  }

  /**
   * The operator's part of a Router's status: `RouterConnected=False` once its agent is silent (a silent agent
   * cannot say so), and `Ready`: the spec is sound, the agent connected and every assigned session configured.
   */
  private async writeConditions(router: Router, connection: Connection): Promise<void> {
    const desired = [readyCondition(router, connection)];
    if (!connection.connected) {
      desired.push({
        type: 'RouterConnected',
        status: 'False',
        reason: connection.reason,
        message: connection.message,
      });
    }
    const update = setConditions(
      router.status?.conditions,
      desired,
      router.metadata.generation,
      new Date(this.deps.clock.now()),
    );
    if (!update.changed) return;
    try {
      await this.deps.routers.updateStatus({
        ...router,
        status: { ...router.status, conditions: update.conditions },
      });
      recordTransitions(this.deps.events, router, update.transitions, ['RouterConnected', 'Ready']);
    } catch (error) {
      // A conflict means the agent wrote meanwhile (maybe it is back): the next tick decides again.
      this.deps.logger.debug('router monitor: status not written', {
        router: objectKey(router.metadata),
        error,
      });
    }
  }

  private enqueueAssigned(router: Router): void {
    for (const session of this.deps.sessions()) {
      if (
        session.metadata.namespace === router.metadata.namespace &&
        session.status?.router?.name === router.metadata.name
      ) {
        this.deps.enqueueSession(objectKey(session.metadata));
      }
    }
  }

  private enqueueNamespace(namespace: string): void {
    for (const session of this.deps.sessions()) {
      if (session.metadata.namespace === namespace) this.deps.enqueueSession(objectKey(session.metadata));
    }
  }
}

/** A Router's Ready condition from its spec, its agent's connection and the counts its agent reports. */
export function readyCondition(router: Router, connection: Connection): DesiredCondition {
  const problem = routerSpecProblem(router);
  if (problem !== undefined) {
    return {
      type: 'Ready',
      status: 'False',
      reason: 'InvalidSpec',
      message: `no session is assigned here: ${problem}`,
    };
  }
  if (!connection.connected)
    return { type: 'Ready', status: 'False', reason: connection.reason, message: connection.message };
  const counts = router.status?.sessions ?? { assigned: 0, configured: 0, established: 0 };
  if (counts.configured < counts.assigned) {
    return {
      type: 'Ready',
      status: 'False',
      reason: 'SessionsNotConfigured',
      message: `${counts.configured} of ${counts.assigned} assigned sessions configured (see their Configured condition)`,
    };
  }
  return {
    type: 'Ready',
    status: 'True',
    reason: 'AgentConnected',
    message: `sessions: ${counts.assigned} assigned, ${counts.configured} configured, ${counts.established} established`,
  };
}
