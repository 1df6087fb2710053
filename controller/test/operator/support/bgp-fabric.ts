import type {
  ApplyResult,
  DesiredSession,
  ObservedSession,
  RouterDriver,
  SessionBatch,
} from '../../../src/router/driver.js';
import { RecordingRouterDriver } from '../../../src/router/recording.js';

/**
 * Two (or more) recording routers wired together as if they sat on one exchange LAN: a session comes up
 * (`established`) once both networks have configured its two ends, and drops (`active`) when one end goes.
 * Each operator drives a real {@link RecordingRouterDriver}; the fabric only plays BGP between them.
 */
export class BgpFabric {
  readonly routers = new Map<number, RecordingRouterDriver>();

  /** The router driver of the network `asn`. */
  driverFor(asn: number): RouterDriver {
    const recording = new RecordingRouterDriver();
    this.routers.set(asn, recording);
    const settle = async <T>(result: Promise<T>) => {
      const value = await result;
      await this.settle();
      return value;
    };
    return {
      apply: (batch: SessionBatch): Promise<ApplyResult> => settle(recording.apply(batch)),
      sync: (desired: readonly DesiredSession[]): Promise<ApplyResult> => settle(recording.sync(desired)),
      observe: (): Promise<ObservedSession[]> => recording.observe(),
    };
  }

  /** Configured sessions of one network. */
  configured(asn: number): DesiredSession[] {
    return [...(this.routers.get(asn)?.configured().values() ?? [])];
  }

  private async settle(): Promise<void> {
    for (const [asn, router] of this.routers) {
      const states = new Map((await router.observe()).map((o) => [o.key, o.state]));
      for (const session of router.configured().values()) {
        const other = this.routers.get(session.peerAsn);
        const mirror = [...(other?.configured().values() ?? [])].some(
          (s) => s.peerAsn === asn && s.localIp === session.peerIp && s.peerIp === session.localIp,
        );
        const want = mirror
          ? 'established'
          : states.get(session.key) === 'established'
            ? 'active'
            : undefined;
        if (want && states.get(session.key) !== want) {
          router.setBgpState(session.key, want, mirror ? { routes: { imported: 10, exported: 5 } } : {});
        }
      }
    }
  }
}
