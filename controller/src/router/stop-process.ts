import type { ChildProcess } from 'node:child_process';

/**
 * Stops a daemon started by this process: `signal` (SIGTERM lets BIRD and bgpd close their sessions cleanly),
 * SIGKILL after `graceMs`; resolves once it has exited. A daemon that already ended is left alone.
 *
 * @example
 * await stopProcess(child, 'SIGTERM', 5_000);
 */
export async function stopProcess(
  target: ChildProcess | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5_000,
): Promise<void> {
  if (!target || target.exitCode !== null || target.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => target.once('exit', () => resolve()));
  target.kill(signal);
  const timer = setTimeout(() => target.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
