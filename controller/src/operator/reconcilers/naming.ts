import { createHash } from 'node:crypto';
import { naturalKey, type SessionKey } from '../../domain/session.js';
import { LABEL } from '../resources/api-group.js';

/**
 * The PeeringSession name of a session: readable (peer ASN, location) and derived from the natural key, so the
 * same session always gets the same name. Creating it twice fails with AlreadyExists instead of duplicating it,
 * which is what makes retries after a crash safe.
 *
 * @example
 * sessionName({ peerAsn: 64501, location: { id: 'pdb:ix:1', type: 'public' }, localIp: '192.0.2.1', peerIp: '192.0.2.2' });
 * // 'as64501-ix1-5d41402abc'
 */
export function sessionName(terms: SessionKey): string {
  const location = typeof terms.location === 'string' ? terms.location : terms.location.id;
  const [, kind, number] = location.split(':');
  return `as${terms.peerAsn}-${kind}${number}-${digest(naturalKey(terms)).slice(0, 10)}`;
}

/** The name of an inbound PeeringRequest: from the client's request id when it gave one (idempotency), else ours. */
export function inboundRequestName(peerAsn: number, requestId: string, clientRequestId?: string): string {
  return clientRequestId === undefined
    ? `in-as${peerAsn}-${requestId}`
    : `in-as${peerAsn}-c${clientRequestHash(peerAsn, clientRequestId)}`;
}

/** A label-safe digest of (peer ASN, client request id): client ids may hold `~` and `:`, which labels refuse. */
export function clientRequestHash(peerAsn: number, clientRequestId: string): string {
  return digest(`${peerAsn}|${clientRequestId}`).slice(0, 32);
}

/** The labels of a PeeringSession: how selectors find a request's sessions and the API server its rows. */
export function sessionLabels(
  requestName: string,
  direction: 'outbound' | 'inbound',
  peerAsn: number,
  sessionId: string,
  requestId: string | undefined,
): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL.request]: requestName.slice(0, 63),
    [LABEL.direction]: direction,
    [LABEL.peerAsn]: String(peerAsn),
    [LABEL.sessionId]: sessionId,
  };
  if (requestId !== undefined && /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(requestId)) {
    labels[LABEL.requestId] = requestId;
  }
  return labels;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
