import type { FieldError } from '../domain/errors.js';
import type { SessionKey, SessionStatus, SessionTerms } from '../domain/session.js';

/** A session as the receiver keeps it, in our own reading (`local` = this network). */
export interface StoredSession {
  sessionId: string;
  requestId: string;
  terms: SessionTerms;
  status: SessionStatus;
  /** Why the status is what it is, in words for a peering coordinator (e.g. the router's last error). */
  statusReason?: string | undefined;
  createdAt: string;
  updatedAt: string;
  /** When it was accepted (approved, on arrival or later by a person): the time window counts from here. */
  acceptedAt?: string | undefined;
  /** Who asked for it (audit): subject, e-mail and issuer, never a token. */
  createdBy: string;
}

/** One `POST /sessions` as accepted, with the rejections it answered. */
export interface StoredRequest {
  requestId: string;
  /** The network that asked. */
  peerAsn: number;
  clientRequestId?: string | undefined;
  returnUrl?: string | undefined;
  errors: FieldError[];
  /** The sessions the request was answered with, in input order (filled in by the store). */
  sessionIds: string[];
  createdAt: string;
  createdBy: string;
}

export interface NewSession {
  sessionId: string;
  terms: SessionTerms;
  status: SessionStatus;
}

export interface SubmitResult {
  request: StoredRequest;
  /** The request's sessions in input order; for natural keys that existed already, the existing session. */
  sessions: StoredSession[];
  /** True when the client request id was seen before and nothing was written. */
  replayed: boolean;
}

export interface SessionPage {
  sessions: StoredSession[];
  /** Opaque position after the last session, absent on the last page. */
  cursor?: string | undefined;
}

/**
 * Where the receiver keeps requests and sessions: SQLite when standalone, Kubernetes resources in a cluster.
 * Every write is atomic: a crash leaves either all of it or none of it.
 */
export interface SessionStore {
  /**
   * Records a request and its sessions in one transaction. Idempotent: a known client request id (for the same
   * peer ASN) returns what was recorded then; a session whose natural key exists is returned as it is.
   */
  submit(request: StoredRequest, sessions: NewSession[]): Promise<SubmitResult>;
  findRequest(peerAsns: readonly number[], id: string): Promise<StoredRequest | undefined>;
  get(sessionId: string): Promise<StoredSession | undefined>;
  /** The live session of a natural key (`naturalKey`), whoever asked for it. */
  findByKey(key: SessionKey): Promise<StoredSession | undefined>;
  /** Sessions of the given peer ASNs in a stable order, optionally of one request, `limit` at a time. */
  list(query: {
    peerAsns: readonly number[];
    requestId?: string | undefined;
    cursor?: string | undefined;
    limit: number;
  }): Promise<SessionPage>;
  /** Removes sessions from every read at once; returns the ids that were there. */
  remove(sessionIds: readonly string[], by: string): Promise<string[]>;
  setStatus(sessionId: string, status: SessionStatus, reason?: string): Promise<void>;
  countByStatus(peerAsn: number, status: SessionStatus): Promise<number>;
  /** Every live session, for the router and the time-window sweeper. */
  all(): Promise<StoredSession[]>;
  close(): Promise<void>;
}
