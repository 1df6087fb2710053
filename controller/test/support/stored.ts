import { randomUUID } from 'node:crypto';
import type { SessionTerms } from '../../src/domain/session.js';
import type { StoredRequest } from '../../src/store/store.js';

/**
 * A session's terms in our reading (AS64500 ↔ AS64501 at `pdb:ix:1`, addresses of the bench fixture's LAN),
 * for tests that talk to a store directly.
 */
export function sampleTerms(overrides: Partial<SessionTerms> = {}): SessionTerms {
  return {
    localAsn: 64500,
    localIp: '10.99.0.1',
    peerAsn: 64501,
    peerIp: '10.99.100.1',
    localInsertAsn: true,
    peerInsertAsn: true,
    localMonitoringSession: false,
    peerMonitoringSession: false,
    peerType: 'public',
    location: { id: 'pdb:ix:1', type: 'public' },
    ...overrides,
  };
}

/** A request as the receiver records it (no client id, no rejections unless given), for `store.submit`. */
export function sampleRequest(peerAsn: number, overrides: Partial<StoredRequest> = {}): StoredRequest {
  return {
    requestId: randomUUID(),
    peerAsn,
    errors: [],
    sessionIds: [],
    createdAt: new Date().toISOString(),
    createdBy: 'test',
    ...overrides,
  };
}
