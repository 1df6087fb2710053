import { recordTransitions } from '../../src/operator/reconcilers/status.js';
import {
  setConditions,
  type Condition,
  type DesiredCondition,
} from '../../src/operator/resources/conditions.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const T1 = new Date('2026-01-01T00:05:00Z');

const ready = (status: DesiredCondition['status'], reason: string, message = ''): DesiredCondition => ({
  type: 'Ready',
  status,
  reason,
  message,
});

/** One condition written at T0, then another at T1: what the second write does. */
function setTwice(first: DesiredCondition, then: DesiredCondition, generations: [number, number] = [1, 1]) {
  const before = setConditions(undefined, [first], generations[0], T0);
  return setConditions(before.conditions, [then], generations[1], T1);
}

describe('setConditions', () => {
  it('adds a missing condition with the time and generation', () => {
    const update = setConditions(
      undefined,
      [{ type: 'Ready', status: 'False', reason: 'Waiting', message: 'not yet' }],
      3,
      T0,
    );
    expect(update).toEqual({
      changed: true,
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'Waiting',
          message: 'not yet',
          observedGeneration: 3,
          lastTransitionTime: T0.toISOString(),
        },
      ],
      transitions: [
        {
          type: 'Ready',
          from: undefined,
          fromReason: undefined,
          to: 'False',
          reason: 'Waiting',
          message: 'not yet',
        },
      ],
    });
  });

  it('reports no change, and keeps the list identical, when nothing differs', () => {
    const first = setConditions(undefined, [ready('True', 'Up', 'ok')], 1, T0);
    const again = setConditions(first.conditions, [ready('True', 'Up', 'ok')], 1, T1);
    expect(again.changed).toBe(false);
    expect(again.transitions).toEqual([]);
    expect(again.conditions).toEqual(first.conditions);
  });

  it('keeps lastTransitionTime when only the reason or message changes; reports a new reason, not a new message', () => {
    const next = setTwice(
      { type: 'Synced', status: 'False', reason: 'PeerUnreachable', message: 'a' },
      { type: 'Synced', status: 'False', reason: 'Timeout', message: 'b' },
    );
    expect(next.changed).toBe(true);
    expect(next.transitions).toEqual([
      {
        type: 'Synced',
        from: 'False',
        fromReason: 'PeerUnreachable',
        to: 'False',
        reason: 'Timeout',
        message: 'b',
      },
    ]);
    expect(next.conditions[0]?.lastTransitionTime).toBe(T0.toISOString());
    expect(next.conditions[0]?.reason).toBe('Timeout');
    const reworded = setTwice(
      { type: 'Synced', status: 'False', reason: 'Timeout', message: 'a' },
      { type: 'Synced', status: 'False', reason: 'Timeout', message: 'b' },
    );
    expect(reworded.transitions).toEqual([]);
  });

  it('moves lastTransitionTime and reports a transition when the status flips', () => {
    const next = setTwice(ready('False', 'Waiting'), ready('True', 'Established', 'up'), [1, 2]);
    expect(next.conditions[0]).toMatchObject({
      status: 'True',
      lastTransitionTime: T1.toISOString(),
      observedGeneration: 2,
    });
    expect(next.transitions).toEqual([
      {
        type: 'Ready',
        from: 'False',
        fromReason: 'Waiting',
        to: 'True',
        reason: 'Established',
        message: 'up',
      },
    ]);
  });

  it('touches only the named types and keeps one entry per type', () => {
    const other: Condition = {
      type: 'Accepted',
      status: 'True',
      reason: 'Approved',
      message: '',
      lastTransitionTime: T0.toISOString(),
    };
    const next = setConditions(
      [other],
      [{ type: 'Ready', status: 'Unknown', reason: 'Pending', message: '' }],
      undefined,
      T1,
    );
    expect(next.conditions.map((c) => c.type)).toEqual(['Accepted', 'Ready']);
    expect(next.conditions[0]).toBe(other);
    expect(next.conditions[1]).not.toHaveProperty('observedGeneration');
  });

  it('truncates a huge message so the status write cannot fail on it', () => {
    const next = setConditions(
      undefined,
      [{ type: 'Synced', status: 'False', reason: 'RemoteProtocolError', message: 'x'.repeat(40_000) }],
      1,
      T0,
    );
    expect(next.conditions[0]?.message.length).toBeLessThanOrEqual(32768);
  });
});

describe('events for condition changes', () => {
  const record = (transitions: Parameters<typeof recordTransitions>[2]) => {
    const events: string[] = [];
    recordTransitions(
      { record: (_subject, type, reason) => void events.push(`${type} ${reason}`) },
      { kind: 'PeeringRequest', metadata: { name: 'x', namespace: 'y' } } as never,
      transitions,
      ['Ready', 'Synced'],
    );
    return events;
  };
  const change = (from: string | undefined, fromReason: string | undefined, to: string, reason: string) => ({
    type: 'Ready',
    from: from as 'True' | undefined,
    fromReason,
    to: to as 'True',
    reason,
    message: '',
  });

  it("says a new object's first failure, but not its first progress", () => {
    expect(record([change(undefined, undefined, 'False', 'SecretNotFound')])).toEqual([
      'Warning SecretNotFound',
    ]);
    expect(record([change(undefined, undefined, 'False', 'NotConfigured')])).toEqual([]);
  });

  it('says a failure once per reason, a recovery as Normal, and a deletion as Normal', () => {
    expect(record([change('False', 'PeerUnreachable', 'False', 'PeerUnreachable')])).toEqual([]);
    expect(record([change('False', 'PeerUnreachable', 'False', 'Timeout')])).toEqual(['Warning Timeout']);
    expect(record([change('False', 'Timeout', 'True', 'Established')])).toEqual(['Normal Established']);
    expect(record([change('True', 'Established', 'False', 'Deleting')])).toEqual(['Normal Deleting']);
    expect(record([change('True', 'Established', 'False', 'BgpDown')])).toEqual(['Warning BgpDown']);
  });
});
