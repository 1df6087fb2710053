import { randomBytes } from 'node:crypto';
import type { EventRecorder, EventSubject, EventType } from '../../runtime/events.js';
import { silentLogger, type Logger } from '../../runtime/logger.js';
import type { KubeClient } from './client.js';

/**
 * Writes core/v1 Events (what `kubectl describe` shows). Fire and forget: an Event that cannot be written is
 * logged, never a reason to fail a reconcile.
 */
export class KubeEventRecorder implements EventRecorder {
  constructor(
    private readonly kube: KubeClient,
    private readonly component = 'peering-operator',
    private readonly logger: Logger = silentLogger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(subject: EventSubject, type: EventType, reason: string, message: string): void {
    const at = this.now().toISOString();
    const namespace = subject.metadata.namespace;
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${subject.metadata.name}.${randomBytes(8).toString('hex')}`,
        namespace,
      },
      involvedObject: {
        apiVersion: subject.apiVersion,
        kind: subject.kind,
        name: subject.metadata.name,
        namespace,
        uid: subject.metadata.uid,
        resourceVersion: subject.metadata.resourceVersion,
      },
      type,
      reason,
      message: message.slice(0, 1024),
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      source: { component: this.component },
      reportingComponent: this.component,
    };
    this.kube
      .request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { body })
      .catch((error: unknown) => this.logger.warn('could not write an Event', { error, reason }));
  }
}
