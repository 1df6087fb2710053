/** How waits grow with consecutive failures. */
export interface BackoffPolicy {
  /** The wait after the first failure. */
  baseMs: number;
  /** The ceiling of any wait. */
  maxMs: number;
  /**
   * `none`: exactly `base * 2^(failures-1)`, capped. `equal`: half of that plus a random part of the other half
   * ("equal jitter"), so many callers released at once spread out but none retries at once.
   */
  jitter?: 'none' | 'equal' | undefined;
}

/**
 * The one backoff formula: the wait after `failures` consecutive failures (1 = the first), doubling from
 * `baseMs` up to `maxMs`. Used by the client's retries, the work queue, the informer's restarts and the polling
 * of peers.
 *
 * @example
 * backoffDelay(3, { baseMs: 5_000, maxMs: 300_000 }); // 20_000
 */
export function backoffDelay(
  failures: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 52);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return policy.jitter === 'equal' ? Math.round(ceiling / 2 + (random() * ceiling) / 2) : ceiling;
}
