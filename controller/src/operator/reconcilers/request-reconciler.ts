import { randomUUID } from 'node:crypto';
import { REQUEST_FINALIZER } from '../resources/api-group.js';
import { ERROR_CATALOG } from '../../domain/errors.js';
import { findCondition, setConditions, type DesiredCondition } from '../resources/conditions.js';
import { firstSpecIssue, hasFinalizer, isDeleting } from '../resources/object.js';
import {
  PeeringRequestSpecSchema,
  type PeeringRequest,
  type PeeringRequestStatus,
} from '../resources/peering-request.js';
import { systemClock, type Clock } from '../../time/clock.js';
import type { ReconcileResult } from '../runtime/controller.js';
import { silentLogger, type Logger } from '../runtime/logger.js';
import { ensureFinalizer, releaseFinalizer } from './finalizers.js';
import { InboundRequests, type InboundRequestDeps } from './inbound-request.js';
import { OutboundRequests, type OutboundRequestDeps, type RequestPass } from './outbound-request.js';
import {
  acceptedCounts,
  hasAnswer,
  requestConditions,
  requestPhase,
  type SessionReadiness,
} from './request-decisions.js';
import { asFailure, recordTransitions, sameStatus } from './status.js';

export type { CrashPoints } from './outbound-request.js';

export interface RequestReconcilerDeps
  extends Omit<OutboundRequestDeps, 'clock' | 'newId'>, Omit<InboundRequestDeps, 'clock'> {
  cached: (key: string) => PeeringRequest | undefined;
  clock?: Clock;
  logger?: Logger;
  newId?: () => string;
}

/**
 * Reconciles PeeringRequests: gathers the request (finalizer, spec check), lets its direction's half act
 * (`OutboundRequests`: ask the peer; `InboundRequests`: repair and approve what our API server wrote), then
 * decides phase and conditions from its sessions and writes them. Deleting a request deletes its sessions,
 * which de-peer through their own finalizer, and then lets it go.
 */
export class RequestReconciler {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly outbound: OutboundRequests;
  private readonly inbound: InboundRequests;

  constructor(private readonly deps: RequestReconcilerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.logger = (deps.logger ?? silentLogger).child({ controller: 'peeringrequest' });
    this.outbound = new OutboundRequests({ ...deps, clock: this.clock, newId: deps.newId ?? randomUUID });
    this.inbound = new InboundRequests({ ...deps, clock: this.clock });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const cached = this.deps.cached(key);
    if (!cached) return {};
    if (isDeleting(cached.metadata)) return this.finalize(cached);
    const request = await ensureFinalizer(this.deps.requests, cached, REQUEST_FINALIZER);
    const parsed = PeeringRequestSpecSchema.safeParse(request.spec);
    const generation = request.metadata.generation ?? 0;
    if (!parsed.success) {
      const message = firstSpecIssue(parsed.error);
      await this.writeStatus(
        request,
        { ...request.status, phase: 'Failed', observedGeneration: generation },
        [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message }],
      );
      return {};
    }
    const inbound = parsed.data.direction === 'Inbound';
    const pass = inbound
      ? await this.inbound.reconcile(request, parsed.data)
      : await this.outbound.reconcile(request, parsed.data);
    if (pass.gone) return {};
    const result = await this.summarize(pass, inbound, generation);
    // Shown first, then rethrown: the controller retries the key with backoff.
    if (pass.error !== undefined) throw pass.error;
    return result;
  }

  /** Phase, counts and conditions of the request from its sessions, written. */
  private async summarize(
    { request, status, conditions: extra, requeueAfterMs, error, duplicates, dePeered }: RequestPass,
    inbound: boolean,
    generation: number,
  ): Promise<ReconcileResult> {
    const byName = new Map(
      this.deps
        .sessionsOf(request.metadata.namespace, request.metadata.name)
        .map((s) => [s.metadata.name, s]),
    );
    const accepted = (status.accepted ?? []).map((a) => {
      const state = byName.get(a.name)?.status?.state ?? a.state;
      return state ? { ...a, state } : a;
    });
    const next: PeeringRequestStatus = { ...status, accepted };
    const states = accepted.map((a) => a.state);
    const failure = error === undefined ? undefined : asFailure(error);
    // A failure before anything was answered leaves nothing else to show: the request has Failed (Argo CD:
    // Degraded) until a retry gets through (an intent in flight stays on record for it). Later failures show in
    // Synced; the sessions keep their phase.
    next.phase =
      failure && !hasAnswer(next) ? 'Failed' : dePeered ? 'DePeered' : requestPhase(next, states, inbound);
    const counts = acceptedCounts(next);
    next.sessionCounts = {
      accepted: counts.agreed,
      pending: counts.pending,
      rejected: next.rejected?.length ?? 0,
      established: states.filter((s) => s === 'established').length,
    };
    const readiness: SessionReadiness[] = accepted.map((a) => {
      const session = byName.get(a.name);
      const owner = duplicates?.get(a.name);
      if (!session && owner !== undefined) {
        return {
          name: a.name,
          ready: false,
          reason: ERROR_CATALOG.DUPLICATE_SESSION.reason,
          message: `the same session belongs to PeeringRequest ${owner}, which manages it; remove it from one of them`,
        };
      }
      const ready = findCondition(session?.status?.conditions, 'Ready');
      return {
        name: a.name,
        ready: ready?.status === 'True',
        reason: ready?.reason ?? 'NotReconciled',
        message: ready?.message,
      };
    });
    next.observedGeneration = generation;
    const decided = requestConditions(next, readiness, { inbound, failure }).map((c) =>
      c.type === 'Ready' && dePeered ? { ...c, status: 'False' as const, ...dePeered } : c,
    );
    const conditions = [...decided, ...extra];
    await this.writeStatus(request, next, conditions);
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }

  private async finalize(request: PeeringRequest): Promise<ReconcileResult> {
    if (!hasFinalizer(request.metadata, REQUEST_FINALIZER)) return {};
    const sessions = this.deps.sessionsOf(request.metadata.namespace, request.metadata.name);
    for (const session of sessions) {
      if (!isDeleting(session.metadata))
        await this.deps.sessions.delete(session.metadata.namespace, session.metadata.name);
    }
    if (sessions.length > 0) {
      // What a deleted request shows while its sessions go: never its last `Established / True`.
      await this.writeStatus(request, { ...request.status, phase: 'Deleting' }, [
        {
          type: 'Ready',
          status: 'False',
          reason: 'Deleting',
          message: `de-peering ${sessions.length} session(s) before the request goes`,
        },
      ]);
      // Each session de-peers through its own finalizer; the session informer brings us back when they go.
      return { requeueAfterMs: 5_000 };
    }
    await releaseFinalizer(this.deps.requests, request, REQUEST_FINALIZER);
    this.deps.events.record(request, 'Normal', 'Removed', 'every session of the request is de-peered');
    return {};
  }

  private async writeStatus(
    request: PeeringRequest,
    status: PeeringRequestStatus,
    desired: DesiredCondition[],
  ): Promise<void> {
    const generation = request.metadata.generation;
    const update = setConditions(request.status?.conditions, desired, generation, new Date(this.clock.now()));
    const next: PeeringRequestStatus = { ...status, conditions: update.conditions };
    if (sameStatus(request.status ?? {}, next)) return;
    await this.deps.requests.updateStatus({ ...request, status: next });
    recordTransitions(this.deps.events, request, update.transitions, ['Ready', 'Synced', 'Accepted']);
  }
}
