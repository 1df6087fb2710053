import { randomUUID } from 'node:crypto';
import { Agent, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { signedRequestFields } from '../auth/http-signature.js';
import type { TokenSource } from '../auth/token-source.js';
import { PeeringError, type ErrorCode } from '../domain/errors.js';
import type { PeeringType } from '../domain/location.js';
import {
  ClientRequestIdSchema,
  naturalKey,
  type SessionKey,
  type SessionTermsInput,
} from '../domain/session.js';
import { SessionInputSchema, swapFieldName, wireFields } from '../domain/session-wire.js';
import { fieldPath } from '../receiver/issues.js';
import {
  RemoteBatchDeleteSchema,
  RemoteLocationPageSchema,
  RemoteLocationSchema,
  RemoteRequestAnswerSchema,
  RemoteSessionPageSchema,
  RemoteSessionSchema,
  readRemoteErrors,
  toOurReading,
  type RemoteLocation,
  type RemoteSession,
} from './answers.js';
import { PeeringApiError, catalogCode, codeForStatus, type RemoteFieldError } from './errors.js';
import {
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  retryDelay,
  type AttemptOutcome,
  type RetryPolicy,
} from './retry.js';
import { systemClock, type Clock } from '../time/clock.js';
import { TransportFailure, exchange, type HttpAnswer } from './transport.js';

export interface PeeringApiClientOptions {
  /** The remote network's Peering API base URL, base path included (`https://peering.example.net/v0.1`). */
  apiUrl: string;
  /** A static bearer token, or a TokenSource (invalidated and asked again once when the remote answers 401). */
  auth?: string | TokenSource | undefined;
  /**
   * The ASNs this client speaks for. Answers are turned into our reading by finding our ASN in them; calls that
   * name an ASN add it. Without any, answers are read the draft's REQUEST way (`local_*` = the remote).
   */
  localAsns?: readonly number[] | undefined;
  /** One attempt (connect, headers, whole body); default 30 s. */
  timeoutMs?: number | undefined;
  /** A whole call, retries and waits included; default 2 min. */
  totalTimeoutMs?: number | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  /** Larger answers are refused (REMOTE_PROTOCOL); default 8 MiB. */
  maxAnswerBytes?: number | undefined;
  /** Pages followed at most by one listing, against servers that never stop paginating; default 10,000. */
  maxPages?: number | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
  /** Makes the client `request_id` of each logical `POST /sessions`; a UUID by default. */
  newRequestId?: (() => string) | undefined;
  /** An undici dispatcher to use instead of the client's own connection pool (closed by `close()` only if own). */
  dispatcher?: Dispatcher | undefined;
  userAgent?: string | undefined;
  /**
   * With DPoP-bound tokens, also sign every request with the DPoP key (RFC 9421, with an RFC 9530 Content-Digest
   * of the body), as a `dpop+signature` server requires; default true. Servers that do not ask for signatures
   * ignore the extra fields, so this only costs one ECDSA signature and a few hundred bytes per request.
   */
  signRequests?: boolean | undefined;
}

/** Per-call settings. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  totalTimeoutMs?: number | undefined;
}

export interface RequestSessionsOptions extends CallOptions {
  /** The client `request_id`; one is generated when absent. The same id makes a repeat return the same answer. */
  requestId?: string | undefined;
  /** Send no client `request_id` at all: then the POST is never retried. */
  withoutRequestId?: boolean | undefined;
  /** Our own Peering API, for the remote's counter-requests. */
  returnUrl?: string | undefined;
}

export interface RequestSessionsResult {
  /** The server's request id (the definitive one), when it gave one. */
  requestId: string | undefined;
  /** The id we proposed, under which a repeat is recognised. */
  clientRequestId: string | undefined;
  sessions: RemoteSession[];
  /** Sessions the remote did not accept, one entry per field, named `sessions[i]…`. */
  errors: RemoteFieldError[];
}

export interface ListSessionsQuery extends CallOptions {
  /** Our ASN (the caller's); absent: every ASN the token holds. */
  asn?: number | undefined;
  /** The server's or our client request id. */
  requestId?: string | undefined;
  /** Page size to ask for (1-100). */
  maxResults?: number | undefined;
}

export interface ListLocationsQuery extends CallOptions {
  /** The remote network's ASN to peer with; absent: all of its ASNs. */
  asn?: number | undefined;
  locationType?: PeeringType | undefined;
  maxResults?: number | undefined;
}

/** The natural key of a session in our reading, with our ASN to narrow the listing that finds it. */
export interface FindSessionKey extends SessionKey {
  localAsn?: number | undefined;
}

interface CallSpec {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** May be sent again after an unknown outcome. */
  replayable: boolean;
  /** Code for a 404 without a known code. */
  notFound?: ErrorCode;
  options?: CallOptions | undefined;
}

interface CallResult {
  method: CallSpec['method'];
  answer: HttpAnswer;
  body: unknown;
  url: string;
  attempts: number;
  /** An earlier attempt failed without an answer, so it may have taken effect. */
  uncertain: boolean;
}

/**
 * A typed client of a remote Peering API (draft-ramseyer-grow-peering-api as docs/api.md reads it), tolerant
 * of other implementations and careful with retries: only calls that can be replayed safely are retried.
 *
 * @example
 * const client = new PeeringApiClient({ apiUrl: 'https://peering.example.net/v0.1', auth: token, localAsns: [64501] });
 * const answer = await client.requestSessions([
 *   { localAsn: 64501, localIp: '192.0.2.2', peerAsn: 64500, peerIp: '192.0.2.1', location: 'pdb:ix:1' },
 * ]);
 * for await (const session of client.listSessions({ asn: 64501 })) console.log(session.sessionId, session.status);
 * await client.close();
 */
export class PeeringApiClient {
  private readonly baseUrl: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownDispatcher: boolean;
  private readonly retry: RetryPolicy;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly newRequestId: () => string;
  private readonly timeoutMs: number;
  private readonly totalTimeoutMs: number;
  private readonly maxAnswerBytes: number;
  private readonly maxPages: number;
  private readonly localAsns: readonly number[];
  private readonly tokenSource: TokenSource | undefined;
  private readonly signRequests: boolean;
  private readonly userAgent: string;

  constructor(options: PeeringApiClientOptions) {
    let url: URL;
    try {
      url = new URL(options.apiUrl);
    } catch {
      throw new PeeringError('INVALID_FIELD', `"${options.apiUrl}" is not a URL`, 'apiUrl');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PeeringError(
        'INVALID_FIELD',
        `the API URL must be http or https, not ${url.protocol}`,
        'apiUrl',
      );
    }
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.totalTimeoutMs = options.totalTimeoutMs ?? 120_000;
    this.ownDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ?? new Agent({ connect: { timeout: this.timeoutMs }, keepAliveTimeout: 10_000 });
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.newRequestId = options.newRequestId ?? randomUUID;
    this.maxAnswerBytes = options.maxAnswerBytes ?? 8 * 1024 * 1024;
    this.maxPages = options.maxPages ?? 10_000;
    this.localAsns = options.localAsns ?? [];
    this.tokenSource =
      typeof options.auth === 'string' ? { token: async () => options.auth as string } : options.auth;
    this.userAgent = options.userAgent ?? 'peering-operator-client/0.1';
    this.signRequests = options.signRequests ?? true;
  }

  /**
   * `POST /sessions`: asks the remote network for sessions. Proposals are in our reading and sent in the wire's
   * (`local_*` = the remote server). Every call carries a client `request_id` (generated unless given), so a
   * retry after a lost answer returns the first answer instead of creating anything twice.
   *
   * @example
   * const { sessions, errors } = await client.requestSessions([proposal], { requestId: 'change-4711' });
   */
  async requestSessions(
    proposals: readonly SessionTermsInput[],
    options: RequestSessionsOptions = {},
  ): Promise<RequestSessionsResult> {
    if (proposals.length === 0) {
      throw new PeeringError('MISSING_FIELD', 'give at least one session to request', 'sessions');
    }
    const sessions = proposals.map((proposal, index) => wireProposal(proposal, index));
    let clientRequestId: string | undefined;
    if (!options.withoutRequestId) {
      clientRequestId = options.requestId ?? this.newRequestId();
      if (!ClientRequestIdSchema.safeParse(clientRequestId).success) {
        throw new PeeringError(
          'INVALID_FIELD',
          `request id "${clientRequestId}" must be 1-128 characters of A-Z a-z 0-9 . _ ~ : -`,
          'request_id',
        );
      }
    }
    const body: Record<string, unknown> = { sessions };
    if (clientRequestId !== undefined) body.request_id = clientRequestId;
    if (options.returnUrl !== undefined) body.return_url = options.returnUrl;
    const result = await this.call({
      method: 'POST',
      path: '/sessions',
      body,
      replayable: clientRequestId !== undefined,
      options,
    });
    const ours = this.ours(proposals.map((p) => p.localAsn));
    const parsed = this.read(RemoteRequestAnswerSchema, result);
    const accepted = parsed.sessions.map((raw, i) => this.session(raw, ours, result, `sessions[${i}]`));
    return {
      requestId: parsed.request_id,
      clientRequestId,
      sessions: accepted,
      errors: readRemoteErrors(
        result.body,
        accepted.some((s) => s.flipped),
      ),
    };
  }

  /**
   * `GET /sessions`, one page at a time.
   *
   * @example
   * for await (const page of client.listSessionPages({ asn: 64501, maxResults: 50 })) console.log(page.sessions.length);
   */
  async *listSessionPages(
    query: ListSessionsQuery = {},
  ): AsyncGenerator<{ sessions: RemoteSession[]; nextToken: string | undefined }> {
    const ours = this.ours(query.asn === undefined ? [] : [query.asn]);
    for await (const { result, items, nextToken } of this.pages(
      '/sessions',
      { asn: query.asn, request_id: query.requestId, max_results: query.maxResults },
      RemoteSessionPageSchema,
      (page) => ({ items: page.sessions, nextToken: page.next_token ?? undefined }),
      query,
    )) {
      yield { sessions: items.map((raw, i) => this.session(raw, ours, result, `sessions[${i}]`)), nextToken };
    }
  }

  /**
   * `GET /sessions`, every session across all pages, fetched lazily.
   *
   * @example
   * for await (const session of client.listSessions({ asn: 64501 })) console.log(session.status);
   */
  async *listSessions(query: ListSessionsQuery = {}): AsyncGenerator<RemoteSession> {
    for await (const page of this.listSessionPages(query)) yield* page.sessions;
  }

  /**
   * `GET /sessions/{id}`. A session that does not exist (or is not ours to see) is a SESSION_NOT_FOUND error.
   *
   * @example
   * const session = await client.getSession('7f0c…', { asn: 64501 });
   */
  async getSession(sessionId: string, options: CallOptions & { asn?: number } = {}): Promise<RemoteSession> {
    const result = await this.call({
      method: 'GET',
      path: `/sessions/${encodeURIComponent(sessionId)}`,
      replayable: true,
      notFound: 'SESSION_NOT_FOUND',
      options,
    });
    return this.session(
      result.body,
      this.ours(options.asn === undefined ? [] : [options.asn]),
      result,
      'session',
    );
  }

  /**
   * `DELETE /sessions/{id}`. Retried like any idempotent call; a 404 after an attempt whose outcome is unknown
   * counts as deleted (that attempt did it), a 404 on the first answer is SESSION_NOT_FOUND.
   *
   * @example
   * await client.deleteSession(session.sessionId);
   */
  async deleteSession(sessionId: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.call({
        method: 'DELETE',
        path: `/sessions/${encodeURIComponent(sessionId)}`,
        replayable: true,
        notFound: 'SESSION_NOT_FOUND',
        options,
      });
    } catch (error) {
      if (error instanceof UncertainNotFound) return;
      throw error;
    }
  }

  /**
   * `DELETE /sessions` (batch): which sessions were removed, and why the others were not.
   *
   * @example
   * const { sessions, errors } = await client.deleteSessions([id1, id2]);
   */
  async deleteSessions(
    sessionIds: readonly string[],
    options: CallOptions & { asn?: number } = {},
  ): Promise<{ sessions: RemoteSession[]; errors: RemoteFieldError[] }> {
    if (sessionIds.length === 0) {
      throw new PeeringError('MISSING_FIELD', 'give at least one session id', 'sessions');
    }
    const result = await this.call({
      method: 'DELETE',
      path: '/sessions',
      body: { sessions: sessionIds.map((session_id) => ({ session_id })) },
      replayable: true,
      options,
    });
    const parsed = this.read(RemoteBatchDeleteSchema, result);
    const ours = this.ours(options.asn === undefined ? [] : [options.asn]);
    return {
      sessions: parsed.sessions.map((raw, i) => this.session(raw, ours, result, `sessions[${i}]`)),
      errors: readRemoteErrors(result.body),
    };
  }

  /**
   * `GET /locations`, every location across all pages: where the remote network can be peered with, with its
   * own addresses there when it lists them (`localIps`, the remote's side).
   *
   * @example
   * for await (const location of client.listLocations({ asn: 64500 })) console.log(location.id, location.name);
   */
  async *listLocations(query: ListLocationsQuery = {}): AsyncGenerator<RemoteLocation> {
    for await (const { items, result } of this.pages(
      '/locations',
      { asn: query.asn, location_type: query.locationType, max_results: query.maxResults },
      RemoteLocationPageSchema,
      (page) => ({ items: page.locations, nextToken: page.next_token ?? undefined }),
      query,
    )) {
      for (const [i, raw] of items.entries()) {
        const parsed = RemoteLocationSchema.safeParse(raw);
        if (!parsed.success) throw this.protocolError(result, parsed.error, `locations[${i}]`);
        yield parsed.data;
      }
    }
  }

  /**
   * `GET /openapi.json`: the remote's OpenAPI document.
   *
   * @example
   * const document = await client.openapi();
   */
  async openapi(options: CallOptions = {}): Promise<Record<string, unknown> & { openapi: string }> {
    const result = await this.call({ method: 'GET', path: '/openapi.json', replayable: true, options });
    const body = result.body as { openapi?: unknown } | undefined;
    if (typeof body !== 'object' || body === null || typeof body.openapi !== 'string') {
      throw new PeeringApiError('REMOTE_PROTOCOL', 'the answer is not an OpenAPI document', 'openapi', {
        method: 'GET',
        url: result.url,
        httpStatus: result.answer.status,
        attempts: result.attempts,
      });
    }
    return body as Record<string, unknown> & { openapi: string };
  }

  /**
   * The session with a natural key, found through `GET /sessions` (docs/api.md §4), or `undefined`.
   *
   * @example
   * const session = await client.findSession({ localAsn: 64501, peerAsn: 64500, location: 'pdb:ix:1', localIp: '192.0.2.2', peerIp: '192.0.2.1' });
   */
  async findSession(key: FindSessionKey, options: CallOptions = {}): Promise<RemoteSession | undefined> {
    const wanted = naturalKey(key);
    for await (const session of this.listSessions({ ...options, asn: key.localAsn })) {
      if (naturalKey(session) === wanted) return session;
    }
    return undefined;
  }

  /** Closes the connection pool (only if the client made it). */
  async close(): Promise<void> {
    if (this.ownDispatcher) await this.dispatcher.close();
  }

  private ours(asns: readonly number[]): ReadonlySet<number> {
    return new Set([...this.localAsns, ...asns]);
  }

  private async *pages<T extends z.ZodType>(
    path: string,
    query: Record<string, string | number | undefined>,
    schema: T,
    unpack: (page: z.output<T>) => { items: unknown[]; nextToken: string | undefined },
    options: CallOptions,
  ): AsyncGenerator<{ result: CallResult; items: unknown[]; nextToken: string | undefined }> {
    const seen = new Set<string>();
    let nextToken: string | undefined;
    for (let page = 0; ; page += 1) {
      if (page >= this.maxPages) {
        throw new PeeringApiError(
          'REMOTE_PROTOCOL',
          `more than ${this.maxPages} pages; giving up`,
          'next_token',
          {
            method: 'GET',
            url: this.urlOf(path, query),
          },
        );
      }
      const result = await this.call({
        method: 'GET',
        path,
        query: { ...query, next_token: nextToken },
        replayable: true,
        options,
      });
      const unpacked = unpack(this.read(schema, result));
      yield { result, ...unpacked };
      if (unpacked.nextToken === undefined) return;
      // A server handing back a token it already gave would make the listing endless.
      if (seen.has(unpacked.nextToken)) {
        throw new PeeringApiError('REMOTE_PROTOCOL', 'the server repeated a next_token', 'next_token', {
          method: 'GET',
          url: result.url,
        });
      }
      seen.add(unpacked.nextToken);
      nextToken = unpacked.nextToken;
    }
  }

  private session(raw: unknown, ours: ReadonlySet<number>, result: CallResult, where: string): RemoteSession {
    const parsed = RemoteSessionSchema.safeParse(raw);
    if (!parsed.success) throw this.protocolError(result, parsed.error, where);
    return toOurReading(parsed.data, ours);
  }

  private read<T extends z.ZodType>(schema: T, result: CallResult): z.output<T> {
    const parsed = schema.safeParse(result.body);
    if (!parsed.success) throw this.protocolError(result, parsed.error, '');
    return parsed.data;
  }

  private protocolError(result: CallResult, error: z.ZodError, where: string): PeeringApiError {
    const issue = error.issues[0];
    const field = fieldPath(issue?.path ?? [], where);
    return new PeeringApiError(
      'REMOTE_PROTOCOL',
      `the answer does not follow the Peering API at ${field}: ${issue?.message ?? 'unexpected shape'}`,
      field,
      {
        method: result.method,
        url: result.url,
        httpStatus: result.answer.status,
        attempts: result.attempts,
        traceId: result.answer.headers['x-request-id'],
      },
    );
  }

  private urlOf(path: string, query: Record<string, string | number | undefined> = {}): string {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) search.set(name, String(value));
    }
    const text = search.toString();
    return `${this.baseUrl}${path}${text ? `?${text}` : ''}`;
  }

  /** One logical call: attempts, backoff, re-authentication, and the answer or a typed error. */
  private async call(spec: CallSpec): Promise<CallResult> {
    const url = this.urlOf(spec.path, spec.query);
    const options = spec.options ?? {};
    const attemptTimeout = options.timeoutMs ?? this.timeoutMs;
    const deadline = this.clock.now() + (options.totalTimeoutMs ?? this.totalTimeoutMs);
    const traceId = randomUUID();
    const payload = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    let reauthenticated = false;
    let nonceRetried = false;
    let uncertain = false;
    let attempts = 0;
    const context = (extra: Partial<ConstructorParameters<typeof PeeringApiError>[3]> = {}) => ({
      method: spec.method,
      url,
      attempts,
      ...extra,
    });

    for (let attempt = 0; ; attempt += 1) {
      const headers: Record<string, string> = {
        accept: 'application/json',
        'user-agent': this.userAgent,
        'x-request-id': traceId,
      };
      if (payload !== undefined) headers['content-type'] = 'application/json';
      if (this.tokenSource) {
        const token = await this.tokenSource.token();
        const dpop = this.tokenSource.dpop;
        if (dpop) {
          // RFC 9449 §7: a bound token goes as DPoP, with a proof made for this very attempt (a retry must not
          // reuse a proof: its jti is spent).
          headers.authorization = `DPoP ${token}`;
          headers.dpop = await dpop.proof(spec.method, url, token);
          if (this.signRequests)
            Object.assign(headers, await signedRequestFields(dpop, spec.method, url, headers, payload));
        } else {
          headers.authorization = `Bearer ${token}`;
        }
      }
      const remaining = deadline - this.clock.now();
      if (remaining <= 0) {
        throw new PeeringApiError('TIMEOUT', `no answer within the call's time budget`, 'request', context());
      }
      attempts += 1;
      let outcome: AttemptOutcome;
      let answer: HttpAnswer | undefined;
      let failure: TransportFailure | undefined;
      try {
        answer = await exchange(
          this.dispatcher,
          { method: spec.method, url, headers, body: payload },
          { timeoutMs: Math.min(attemptTimeout, remaining), maxBodyBytes: this.maxAnswerBytes },
          options.signal,
        );
      } catch (error) {
        if (!(error instanceof TransportFailure)) throw error;
        failure = error;
      }

      if (failure !== undefined) {
        if (failure.kind === 'cancelled') {
          throw new PeeringApiError(
            'TIMEOUT',
            'the call was cancelled',
            'request',
            context({ cause: failure }),
          );
        }
        if (failure.kind === 'too-large') {
          throw new PeeringApiError(
            'REMOTE_PROTOCOL',
            failure.message,
            'request',
            context({ cause: failure }),
          );
        }
        uncertain = true;
        outcome = { kind: 'network' };
      } else {
        const status = answer!.status;
        const dpop = this.tokenSource?.dpop;
        const freshNonce = dpop?.rememberNonce(url, answer!.headers['dpop-nonce']) ?? false;
        if (
          status === 401 &&
          freshNonce &&
          !nonceRetried &&
          asksForNonce(answer!.headers['www-authenticate'])
        ) {
          // RFC 9449 §8: the server wants its nonce in the proof; once, with the nonce it just gave.
          nonceRetried = true;
          attempt -= 1;
          continue;
        }
        if (status >= 200 && status < 300) {
          const body = this.parseBody(answer!, url, spec, attempts);
          return { method: spec.method, answer: answer!, body, url, attempts, uncertain };
        }
        if (status === 401 && !reauthenticated && this.tokenSource?.invalidate) {
          // The token may have expired since it was cached: one fresh token, then 401 is the answer.
          reauthenticated = true;
          this.tokenSource.invalidate();
          attempt -= 1;
          continue;
        }
        if (status === 404 && uncertain && spec.method === 'DELETE') throw new UncertainNotFound();
        outcome = {
          kind: 'answer',
          status,
          retryAfterMs: parseRetryAfter(answer!.headers['retry-after'], this.clock.now()),
        };
      }

      const wait = retryDelay(outcome, attempt, spec.replayable, this.retry, this.random);
      const left = deadline - this.clock.now();
      if (wait === undefined || wait >= left) {
        if (answer !== undefined) throw this.answerError(answer, url, spec, attempts);
        throw new PeeringApiError(
          failure!.kind === 'timeout' ? 'TIMEOUT' : 'REMOTE_UNAVAILABLE',
          `${spec.method} ${url}: ${failure!.message}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`,
          'request',
          context({ cause: failure }),
        );
      }
      await this.clock.sleep(wait, options.signal).catch((cause: unknown) => {
        throw new PeeringApiError('TIMEOUT', 'the call was cancelled', 'request', context({ cause }));
      });
    }
  }

  private parseBody(answer: HttpAnswer, url: string, spec: CallSpec, attempts: number): unknown {
    if (answer.status === 204 || answer.text.trim() === '') return undefined;
    const type = answer.contentType?.toLowerCase() ?? '';
    const protocol = (message: string) =>
      new PeeringApiError('REMOTE_PROTOCOL', message, 'request', {
        method: spec.method,
        url,
        httpStatus: answer.status,
        attempts,
        traceId: answer.headers['x-request-id'],
      });
    if (type !== '' && !/^application\/([a-z0-9.+-]*\+)?json\b/.test(type)) {
      throw protocol(`the answer is ${type.split(';')[0]}, not JSON`);
    }
    try {
      return JSON.parse(answer.text) as unknown;
    } catch (error) {
      throw protocol(`the answer is not valid JSON (${(error as Error).message}); was it cut off?`);
    }
  }

  private answerError(answer: HttpAnswer, url: string, spec: CallSpec, attempts: number): PeeringApiError {
    let body: unknown;
    try {
      body = answer.text.trim() === '' ? undefined : JSON.parse(answer.text);
    } catch {
      body = undefined;
    }
    const remoteErrors = readRemoteErrors(body);
    const first = remoteErrors[0];
    const known = remoteErrors.map((e) => catalogCode(e.code)).find((c) => c !== undefined);
    const code = known ?? codeForStatus(answer.status, spec.notFound);
    const text = first?.errors.join('; ') ?? (body === undefined ? answer.text.slice(0, 200).trim() : '');
    const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], this.clock.now());
    return new PeeringApiError(
      code,
      `${spec.method} ${url} answered ${answer.status}${text ? `: ${text}` : ''}`,
      first?.field ?? 'request',
      {
        method: spec.method,
        url,
        httpStatus: answer.status,
        remoteErrors,
        traceId: answer.headers['x-request-id'],
        attempts,
        retryAfterSeconds: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
      },
    );
  }
}

/** Internal signal: a replayed DELETE found nothing, because an earlier attempt already removed it. */
class UncertainNotFound extends Error {}

/** A proposal in our reading → the wire session (local = the remote server), checked with the server's schema. */
function wireProposal(proposal: SessionTermsInput, index: number): z.output<typeof SessionInputSchema> {
  const parsed = SessionInputSchema.safeParse(wireFields(proposal, 'peer'));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  // Name the field as the caller wrote it: our reading, camelCase (`sessions[0].peerIp`).
  const field = swapFieldName(fieldPath(issue?.path ?? [], `sessions[${index}]`)).replace(
    /_([a-z])/g,
    (_m, c: string) => c.toUpperCase(),
  );
  throw new PeeringError('INVALID_FIELD', `${field}: ${issue?.message ?? 'invalid'}`, field);
}

/** A `WWW-Authenticate` with the DPoP challenge `use_dpop_nonce` (RFC 9449 §8). */
function asksForNonce(challenge: string | undefined): boolean {
  return challenge !== undefined && /\bDPoP\b[^]*\berror="use_dpop_nonce"/i.test(challenge);
}
