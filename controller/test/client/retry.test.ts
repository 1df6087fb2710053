import { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelay } from '../../src/client/retry.js';

const policy = { ...DEFAULT_RETRY_POLICY, attempts: 5, baseDelayMs: 200, maxDelayMs: 1000 };

describe('retry rules', () => {
  test('a call that cannot be replayed is never retried, whatever happened', () => {
    expect(retryDelay({ kind: 'network' }, 0, false, policy)).toBeUndefined();
    expect(retryDelay({ kind: 'answer', status: 503 }, 0, false, policy)).toBeUndefined();
    expect(retryDelay({ kind: 'answer', status: 429, retryAfterMs: 10 }, 0, false, policy)).toBeUndefined();
  });

  test('only network failures, 429, 500, 502, 503 and 504 are retried', () => {
    for (const status of [429, 500, 502, 503, 504]) {
      expect(retryDelay({ kind: 'answer', status }, 0, true, policy)).toBeDefined();
    }
    for (const status of [400, 401, 403, 404, 409, 413, 422, 501]) {
      expect(retryDelay({ kind: 'answer', status }, 0, true, policy)).toBeUndefined();
    }
    expect(retryDelay({ kind: 'network' }, 0, true, policy)).toBeDefined();
  });

  test('equal jitter: between half and all of the exponential ceiling, capped', () => {
    const at = (attempt: number, random: number) =>
      retryDelay({ kind: 'network' }, attempt, true, policy, () => random);
    expect([at(0, 0), at(0, 1)]).toEqual([100, 200]);
    expect([at(1, 0), at(1, 1)]).toEqual([200, 400]);
    expect([at(3, 0), at(3, 1)]).toEqual([500, 1000]);
    expect(at(2, 0.5)).toBe(600);
  });

  test('attempts are counted: the last one is not followed by a wait', () => {
    expect(retryDelay({ kind: 'network' }, 3, true, policy)).toBeDefined();
    expect(retryDelay({ kind: 'network' }, 4, true, policy)).toBeUndefined();
  });

  test('Retry-After is a floor, and one beyond the limit gives up', () => {
    const wait = retryDelay({ kind: 'answer', status: 429, retryAfterMs: 7000 }, 0, true, policy, () => 1);
    expect(wait).toBe(7200);
    expect(
      retryDelay({ kind: 'answer', status: 429, retryAfterMs: policy.maxRetryAfterMs + 1 }, 0, true, policy),
    ).toBeUndefined();
  });

  test('Retry-After in seconds or as an HTTP date; nonsense is ignored', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
