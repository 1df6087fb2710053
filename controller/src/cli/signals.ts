/** Exit codes of both executables (documented in their --help). */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 3 } as const;

/** Ctrl-C / SIGTERM: close listeners and the store, then exit. */
export function stopOnSignal(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`peering-operator: ${signal}, stopping`);
    close().then(
      () => process.exit(EXIT.ok),
      () => process.exit(EXIT.failure),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
