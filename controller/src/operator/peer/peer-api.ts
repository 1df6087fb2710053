import type { TokenSource } from '../../auth/token-source.js';
import type { RemoteLocation, RemoteSession } from '../../client/answers.js';
import { PeeringApiClient, type RequestSessionsResult } from '../../client/client.js';
import type { SessionTermsInput } from '../../domain/session.js';
import { PeeringApiError } from '../../client/errors.js';
import { PeeringError } from '../../domain/errors.js';
import type { OperatorMetrics } from '../runtime/metrics.js';

/**
 * What the reconcilers ask of a peer's Peering API. One call = one HTTP request: the operator does its own
 * retrying (work-queue backoff, crash-safe intents), so the client never repeats a call behind its back.
 */
export interface PeerApi {
  /**
   * `POST /sessions` with our intent id as the client `request_id`, and our own API as the `return_url` where
   * the peer may send a counter-request.
   */
  requestSessions(
    proposals: readonly SessionTermsInput[],
    requestId: string,
    returnUrl?: string,
  ): Promise<RequestSessionsResult>;
  /** `GET /sessions?asn=&request_id=`: what the peer recorded under a request id (ours or its own). */
  sessionsOfRequest(localAsn: number, requestId: string): Promise<RemoteSession[]>;
  /** `GET /sessions/{id}`; `undefined` when the peer does not (or no longer) know it. */
  getSession(localAsn: number, sessionId: string): Promise<RemoteSession | undefined>;
  /** `DELETE /sessions/{id}`; a session already gone is no failure. */
  deleteSession(sessionId: string): Promise<void>;
  /** `GET /locations?asn=`: where the peer offers peering, with its addresses there. */
  locations(peerAsn: number): Promise<RemoteLocation[]>;
}

export interface PeerTarget {
  url: string;
  localAsn: number;
  peerAsn: number;
  token: TokenSource;
  /** Distinguishes credentials, so a changed Secret reference gets a client of its own. */
  credentialKey: string;
}

/** Hands out a {@link PeerApi} per peer. */
export interface PeerApiConnector {
  connect(target: PeerTarget): PeerApi;
  close(): Promise<void>;
}

/**
 * The connector over the project's Peering API client (`client/`), with single attempts (the controller backs
 * off), a per-call timeout, and a metric per call by remote ASN, operation and outcome.
 *
 * @example
 * const peers = new ClientPeerApiConnector({ metrics });
 * const api = peers.connect({ url, localAsn: 64500, peerAsn: 64501, token, credentialKey: 'ns/peer-token/token' });
 * const session = await api.getSession(64500, sessionId);
 */
export class ClientPeerApiConnector implements PeerApiConnector {
  private readonly clients = new Map<string, PeeringApiClient>();

  constructor(private readonly options: { metrics?: OperatorMetrics; timeoutMs?: number } = {}) {}

  connect(target: PeerTarget): PeerApi {
    const key = `${target.url}|${target.localAsn}|${target.credentialKey}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new PeeringApiClient({
        apiUrl: target.url,
        auth: target.token,
        localAsns: [target.localAsn],
        timeoutMs: this.options.timeoutMs ?? 15_000,
        totalTimeoutMs: (this.options.timeoutMs ?? 15_000) + 5_000,
        retry: { attempts: 1 },
        userAgent: 'peering-operator/0.1 (operator)',
      });
      this.clients.set(key, client);
    }
    return new CountedPeerApi(client, String(target.peerAsn), this.options.metrics);
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}

class CountedPeerApi implements PeerApi {
  constructor(
    private readonly client: PeeringApiClient,
    private readonly peerAsn: string,
    private readonly metrics: OperatorMetrics | undefined,
  ) {}

  requestSessions(
    proposals: readonly SessionTermsInput[],
    requestId: string,
    returnUrl?: string,
  ): Promise<RequestSessionsResult> {
    return this.count('request', () => this.client.requestSessions(proposals, { requestId, returnUrl }));
  }

  sessionsOfRequest(localAsn: number, requestId: string): Promise<RemoteSession[]> {
    return this.count('list', async () => {
      const out: RemoteSession[] = [];
      for await (const session of this.client.listSessions({ asn: localAsn, requestId })) out.push(session);
      return out;
    });
  }

  getSession(localAsn: number, sessionId: string): Promise<RemoteSession | undefined> {
    return this.count('get', async () => {
      try {
        return await this.client.getSession(sessionId, { asn: localAsn });
      } catch (error) {
        if (error instanceof PeeringError && error.code === 'SESSION_NOT_FOUND') return undefined;
        throw error;
      }
    });
  }

  deleteSession(sessionId: string): Promise<void> {
    return this.count('delete', async () => {
      try {
        await this.client.deleteSession(sessionId);
      } catch (error) {
        if (error instanceof PeeringError && error.code === 'SESSION_NOT_FOUND') return;
        throw error;
      }
    });
  }

  locations(peerAsn: number): Promise<RemoteLocation[]> {
    return this.count('locations', async () => {
      const out: RemoteLocation[] = [];
      for await (const location of this.client.listLocations({ asn: peerAsn })) out.push(location);
      return out;
    });
  }

  private async count<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      this.metrics?.peerCalls.inc({ peer_asn: this.peerAsn, operation, outcome: 'ok' });
      return result;
    } catch (error) {
      const outcome =
        error instanceof PeeringApiError && error.httpStatus !== undefined
          ? String(error.httpStatus)
          : error instanceof PeeringError
            ? error.code
            : 'error';
      this.metrics?.peerCalls.inc({ peer_asn: this.peerAsn, operation, outcome });
      throw error;
    }
  }
}
