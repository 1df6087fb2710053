import { PeeringError } from '../domain/errors.js';
import type { ApplyResult, DesiredSession, ObservedSession, RouterDriver, SessionBatch } from './driver.js';

/**
 * The driver of an operator told explicitly that it has no router (`--router none`, the chart's
 * `router.driver: none`): it configures nothing and says so for every session, which then reads
 * `Configured=False` with reason `NoRouter` and a message naming its address, and is never reported to the peer
 * as configured. Unlike the recording driver (tests and benchmarks), it never pretends a session is on a router.
 *
 * @example
 * const outcome = (await new NoRouterDriver().apply({ upsert: [session] })).sessions[0];
 * outcome?.outcome; // 'rejected', with a NO_ROUTER error naming session.localIp
 */
export class NoRouterDriver implements RouterDriver {
  async apply(batch: SessionBatch): Promise<ApplyResult> {
    return {
      reloaded: false,
      sessions: [
        ...(batch.upsert ?? []).map((session) => refusal(session)),
        ...(batch.remove ?? []).map((key) => ({
          key,
          outcome: 'removed' as const,
          change: 'absent' as const,
        })),
      ],
    };
  }

  async sync(desired: readonly DesiredSession[]): Promise<ApplyResult> {
    return { reloaded: false, sessions: desired.map((session) => refusal(session)) };
  }

  async observe(): Promise<ObservedSession[]> {
    return [];
  }
}

function refusal(session: DesiredSession) {
  return {
    key: session.key,
    outcome: 'rejected' as const,
    error: new PeeringError(
      'NO_ROUTER',
      `no router speaks from ${session.localIp}: this operator runs with --router none, so nothing is configured`,
      'localIp',
    ),
  };
}
