import { windowEnds, windowExpired } from '../../src/domain/time-window.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const WEEK = 7 * 86_400_000;
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe('the time window (one rule for the API server and the operator)', () => {
  it('expires agreed sessions that never came up, counted from their acceptance', () => {
    expect(windowExpired('approved', ago(WEEK + 1), NOW, WEEK)).toBe(true);
    expect(windowExpired('configured', ago(WEEK + 1), NOW, WEEK)).toBe(true);
    expect(windowExpired('approved', ago(WEEK), NOW, WEEK)).toBe(false);
    expect(windowExpired('configured', ago(WEEK - 1), NOW, WEEK)).toBe(false);
  });

  it('leaves alone sessions that came up, await approval or are over', () => {
    for (const state of ['established', 'down', 'pending', 'rejected', 'unestablished'] as const) {
      expect(windowExpired(state, ago(WEEK + 1), NOW, WEEK)).toBe(false);
    }
    expect(windowExpired(undefined, ago(WEEK + 1), NOW, WEEK)).toBe(false);
  });

  it('does not run for a session whose acceptance is not known (not accepted yet)', () => {
    expect(windowExpired('approved', undefined, NOW, WEEK)).toBe(false);
  });

  it('ends one window after acceptance, for waiting sessions only', () => {
    expect(windowEnds('approved', ago(1_000), WEEK)).toBe(NOW - 1_000 + WEEK);
    expect(windowEnds('established', ago(1_000), WEEK)).toBeUndefined();
    expect(windowEnds('configured', undefined, WEEK)).toBeUndefined();
  });
});
