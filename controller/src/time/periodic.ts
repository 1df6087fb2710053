import type { Clock, TimerHandle } from './clock.js';

/**
 * Runs `tick` every `everyMs` until stopped, each run starting `everyMs` after the last one ended (a slow tick
 * never overlaps the next). A failing tick is reported to `onError` and does not stop the next.
 *
 * @example
 * const watch = new Periodic(systemClock, 5_000, () => look(), (error) => logger.warn('look failed', { error }));
 * watch.start();
 */
export class Periodic {
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly tick: () => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimer(this.everyMs, () => {
      this.tick()
        .catch((error: unknown) => this.onError(error))
        .finally(() => this.schedule());
    });
  }
}
