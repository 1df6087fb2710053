import { canonicalAddress } from '../../domain/session.js';
import { LABEL } from '../resources/api-group.js';
import { setConditions, type DesiredCondition } from '../resources/conditions.js';
import type { PeeringApproval, PeeringApprovalStatus } from '../resources/peering-approval.js';
import type { PeeringSession } from '../resources/peering-session.js';
import type { ResourceCollection } from '../backing/resource-collection.js';
import type { ReconcileResult } from '../runtime/controller.js';
import type { EventRecorder } from '../runtime/events.js';
import { systemClock, type Clock } from '../../time/clock.js';
import { sameStatus } from './status.js';

/** What an approval is matched against: one inbound session and the request it came in. */
export interface ApprovalTarget {
  peerAsn: number;
  /** The inbound PeeringRequest's name. */
  request: string;
  /** Our request_id of that request. */
  requestId?: string | undefined;
  location: string;
  localIp: string;
  peerIp: string;
}

/**
 * Whether a PeeringApproval covers a session: the peer's ASN, then the request (by name or request_id) and the
 * sessions, where the approval names them. Addresses compare in canonical form (`2001:DB8::1` is `2001:db8::1`).
 *
 * @example
 * approves(approval, { peerAsn: 64503, request: 'in-as64503-…', location: 'pdb:ix:1', localIp, peerIp }); // true
 */
export function approves(approval: PeeringApproval, target: ApprovalTarget): boolean {
  const spec = approval.spec;
  if (spec.peerAsn !== target.peerAsn) return false;
  if (spec.request !== undefined && spec.request !== target.request && spec.request !== target.requestId)
    return false;
  if (spec.sessions === undefined) return true;
  const local = canonicalAddress(target.localIp);
  const peer = canonicalAddress(target.peerIp);
  return spec.sessions.some(
    (s) =>
      s.location === target.location &&
      canonicalAddress(s.localIp) === local &&
      canonicalAddress(s.peerIp) === peer,
  );
}

/** An inbound PeeringSession as an approval target (undefined for outbound ones, which nobody here approves). */
export function approvalTarget(session: PeeringSession): ApprovalTarget | undefined {
  if (session.spec.direction !== 'Inbound') return undefined;
  const request = session.metadata.labels?.[LABEL.request];
  if (request === undefined) return undefined;
  return {
    peerAsn: session.spec.peerAsn,
    request,
    requestId: session.spec.requestId,
    location: session.spec.location.id,
    localIp: session.spec.localIp,
    peerIp: session.spec.peerIp,
  };
}

/** The status an approval shows, from the sessions it covers. Pure. */
export function approvalStatus(
  approval: PeeringApproval,
  sessions: readonly PeeringSession[],
): { approved: string[]; ready: DesiredCondition } {
  const covered = sessions.filter((s) => {
    const target = approvalTarget(s);
    return target !== undefined && approves(approval, target);
  });
  const waiting = covered.filter((s) => s.status?.state === 'pending' || s.status?.state === undefined);
  const approved = covered
    .filter((s) => !waiting.includes(s))
    .map((s) => s.metadata.name)
    .sort();
  const peer = `AS${approval.spec.peerAsn}`;
  const ready: DesiredCondition =
    covered.length === 0
      ? {
          type: 'Ready',
          status: 'False',
          reason: 'NoRequest',
          message: `no session ${peer} asked for matches yet; it is approved when ${peer} asks`,
        }
      : waiting.length > 0
        ? {
            type: 'Ready',
            status: 'False',
            reason: 'Approving',
            message: `approving ${waiting.length} session(s) of ${peer}`,
          }
        : {
            type: 'Ready',
            status: 'True',
            reason: 'Approved',
            message: `approved ${approved.length} session(s) of ${peer}: ${approved.slice(0, 5).join(', ')}${approved.length > 5 ? ', …' : ''}`,
          };
  return { approved, ready };
}

export interface ApprovalReconcilerDeps {
  approvals: ResourceCollection<PeeringApproval>;
  cached: (key: string) => PeeringApproval | undefined;
  /** Inbound sessions of a namespace (informer cache). */
  sessionsIn: (namespace: string) => PeeringSession[];
  events: EventRecorder;
  clock?: Clock;
}

/**
 * Keeps a PeeringApproval's status true to what it approved. The approving itself happens in the inbound request
 * reconciler (where `spec.approved` is handled too), so that a session is approved by whichever comes first.
 */
export class ApprovalReconciler {
  private readonly clock: Clock;

  constructor(private readonly deps: ApprovalReconcilerDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const approval = this.deps.cached(key);
    if (!approval || approval.metadata.deletionTimestamp) return {};
    const { approved, ready } = approvalStatus(approval, this.deps.sessionsIn(approval.metadata.namespace));
    const generation = approval.metadata.generation;
    const update = setConditions(
      approval.status?.conditions,
      [ready],
      generation,
      new Date(this.clock.now()),
    );
    const next: PeeringApprovalStatus = {
      ...approval.status,
      approved,
      conditions: update.conditions,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    };
    if (sameStatus(approval.status ?? {}, next)) return {};
    await this.deps.approvals.updateStatus({ ...approval, status: next });
    const newly = approved.filter((name) => !(approval.status?.approved ?? []).includes(name));
    if (newly.length > 0) {
      this.deps.events.record(approval, 'Normal', 'Approved', `approved ${newly.join(', ')}`);
    }
    return {};
  }
}
