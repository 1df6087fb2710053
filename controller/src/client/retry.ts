import { backoffDelay } from '../time/backoff.js';

/**
 * When and how long the client waits before trying a call again. Pure functions over the outcome of one
 * attempt, so the rules are tested without sockets or real time.
 */
export interface RetryPolicy {
  /** Attempts per call, the first included (1 = never retry). */
  attempts: number;
  /** Backoff before the second attempt; doubled for each further one. */
  baseDelayMs: number;
  /** Ceiling of one backoff. */
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the call fails with RATE_LIMITED at once. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
};

/** How one attempt ended, as far as retrying is concerned. */
export type AttemptOutcome =
  { kind: 'network' } | { kind: 'answer'; status: number; retryAfterMs?: number | undefined };

/** Statuses worth another try: the server is overloaded or briefly broken (not 501: it will not change). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/**
 * The wait before attempt `attempt + 1` (attempts count from 0), or `undefined` when the call must not be
 * tried again. Rules:
 * - only a `replayable` call is ever retried: GET and DELETE, and POST only with a client `request_id`
 *   (the server deduplicates on it, so a retry cannot create a second request);
 * - network failures, timeouts, 429, 500, 502, 503, 504 are retried; every other status is an answer;
 * - the backoff is exponential with "equal jitter": half of `base * 2^attempt` (capped) plus a random part
 *   of the other half, so that many clients released at once spread out but none retries immediately;
 * - `Retry-After` (on 429 or 503) is a floor: never sooner, with a little jitter on top; one beyond
 *   `maxRetryAfterMs` ends the call.
 */
export function retryDelay(
  outcome: AttemptOutcome,
  attempt: number,
  replayable: boolean,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (!replayable || attempt + 1 >= policy.attempts) return undefined;
  if (outcome.kind === 'answer' && !isRetryableStatus(outcome.status)) return undefined;
  const backoff = backoffDelay(
    attempt + 1,
    { baseMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, jitter: 'equal' },
    random,
  );
  if (outcome.kind === 'answer' && outcome.retryAfterMs !== undefined) {
    if (outcome.retryAfterMs > policy.maxRetryAfterMs) return undefined;
    return outcome.retryAfterMs + Math.round(random() * Math.min(1000, policy.baseDelayMs));
  }
  return backoff;
}

/**
 * `Retry-After` as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). Unreadable values are
 * ignored (the normal backoff applies).
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, date - now);
}
