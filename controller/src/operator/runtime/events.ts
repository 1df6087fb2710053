import type { ObjectMeta } from '../resources/object.js';

export type EventType = 'Normal' | 'Warning';

/** The object an Event is about. */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: Pick<ObjectMeta, 'name' | 'namespace' | 'uid' | 'resourceVersion'>;
}

/**
 * Records Kubernetes Events. Reconcilers call it on transitions only (a condition flipped, a session was
 * requested, de-peered), never on every poll, so `kubectl describe` reads like a history.
 */
export interface EventRecorder {
  record(subject: EventSubject, type: EventType, reason: string, message: string): void;
}

/** Keeps events in memory: the embedded store's recorder, and the one tests read. */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: { key: string; type: EventType; reason: string; message: string; at: string }[] = [];

  constructor(private readonly limit = 10_000) {}

  record(subject: EventSubject, type: EventType, reason: string, message: string): void {
    this.events.push({
      key: `${subject.metadata.namespace}/${subject.metadata.name}`,
      type,
      reason,
      message,
      at: new Date().toISOString(),
    });
    if (this.events.length > this.limit) this.events.splice(0, this.events.length - this.limit);
  }

  /** Events of one object. */
  of(key: string): { type: EventType; reason: string; message: string }[] {
    return this.events.filter((e) => e.key === key);
  }
}
