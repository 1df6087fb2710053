import { createHash, randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyBaseLogger,
} from 'fastify';
import type { z } from 'zod';
import { DpopGate, DpopRefusal, presentedCredentials } from '../auth/dpop-proof.js';
import { MemoryReplayCache } from '../auth/dpop-replay-cache.js';
import { acceptSignature, SignatureRefusal } from '../auth/http-signature.js';
import type { Authenticator, Identity } from '../auth/identity.js';
import { PeeringError, type ErrorCode } from '../domain/errors.js';
import { SESSION_ID_PATTERN } from '../domain/session.js';
import type { Receiver } from '../receiver/receiver.js';
import { issuesToFieldErrors } from '../receiver/issues.js';
import { parseJsonBody } from './json-body.js';
import { ApiMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { PageTokens } from './pagination.js';
import { RateLimiter } from './rate-limit.js';
import {
  BatchDeleteEnvelopeSchema,
  ListLocationsQuerySchema,
  ListSessionsQuerySchema,
  SessionRequestEnvelopeSchema,
} from './wire.js';

declare module 'fastify' {
  interface FastifyRequest {
    identity?: Identity;
    /** Under `dpop+signature`: the body digest the signature vouches for, and whether the body was held to it. */
    signedBody?: SignedBody;
  }
}

export interface ApiServerOptions {
  receiver: Receiver;
  authenticator: Authenticator;
  /** Secret for page tokens; keep it across restarts so tokens stay valid. */
  pageTokenKey: Buffer;
  /** Public URL of the API, base path included (served in the OpenAPI document). */
  apiUrl: string;
  basePath: string;
  bodyLimit: number;
  pageSize: number;
  requestsPerMinute: number;
  /** Readiness: resolves when the store and data sources can serve. */
  ready?: () => Promise<void>;
  /** Fastify's own (pino) logging settings. */
  logger?: boolean | { level: string };
  /** A ready logger instead (Fastify 5 takes one only as `loggerInstance`), e.g. the operator's. */
  loggerInstance?: FastifyBaseLogger;
  metrics?: ApiMetrics;
  /**
   * How tokens must be presented (RFC 9449 DPoP, per caller); default: bearer for everyone, DPoP-bound tokens
   * held to their proofs.
   */
  dpop?: DpopGate;
}

interface SignedBody {
  /** The SHA-256 of the signed Content-Digest; null: it states none, so no body may come. */
  sha256: Buffer | null;
  checked: boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/**
 * Our routes under the base path and the methods each answers (HEAD with every GET), for 405 and its `Allow`
 * (RFC 9110 §15.5.6).
 */
const ROUTES: readonly [RegExp, string][] = [
  [/^\/sessions\/?$/, 'GET, HEAD, POST, DELETE'],
  [/^\/sessions\/[^/]+\/?$/, 'GET, HEAD, DELETE'],
  [/^\/locations\/?$/, 'GET, HEAD'],
  [/^\/openapi\.json\/?$/, 'GET, HEAD'],
];
/**
 * After a 413 the rest of the body is read and dropped, up to this many bytes or this long, so that the client
 * sees the answer instead of a reset connection (RFC 9112 §9.6); a client sending more is cut off.
 */
const DISCARD_BYTES = 64 * 1024 * 1024;
const DISCARD_MS = 30_000;

const FASTIFY_ERRORS: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_BODY',
  FST_ERR_BAD_URL: 'INVALID_FIELD',
};

/**
 * The Peering API over HTTP: parses and checks what arrives, hands it to the receiver, formats what comes back.
 * Errors of every kind leave through one handler, in the catalog's shape and never with internals.
 */
export async function buildApiServer(options: ApiServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.loggerInstance
      ? { loggerInstance: options.loggerInstance }
      : { logger: options.logger ?? false }),
    bodyLimit: options.bodyLimit,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Any id that fits in a request line reaches our handler, which answers a malformed one 400 in the catalog's
    // shape (the router's own limit would answer 414 in fastify's).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 16_384 },
    return503OnClosing: true,
    // Per-request "incoming/completed" lines cost a child logger per request on the hot path; the metrics count
    // every request, and writes and failures are logged explicitly below with the request id.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const metrics = options.metrics ?? new ApiMetrics();
  const tokens = new PageTokens(options.pageTokenKey);
  const limiter = new RateLimiter(options.requestsPerMinute);
  const receiver = options.receiver;
  const document = openApiDocument(options.apiUrl);
  const gate =
    options.dpop ??
    new DpopGate({ policy: 'bearer', byAsn: new Map() }, { replayCache: new MemoryReplayCache() });
  // The URL a proof must name is our public one, never what the Host header says (a proxy, or an attacker,
  // controls that): a proof made for another server must not be good here.
  const publicBase = options.apiUrl.replace(/\/+$/, '');

  app.removeAllContentTypeParsers();
  const parseJson = (
    request: FastifyRequest,
    body: Buffer,
    done: (error: Error | null, value?: unknown) => void,
  ) => {
    const charset = /charset=([^;]+)/i
      .exec(request.headers['content-type'] ?? '')?.[1]
      ?.trim()
      .toLowerCase();
    // The signed Content-Digest is checked against these very bytes before anything parses them, let alone acts.
    const signed = request.signedBody;
    if (signed !== undefined) {
      if (signed.sha256 === null || !createHash('sha256').update(body).digest().equals(signed.sha256)) {
        done(digestMismatch(signed));
        return;
      }
      signed.checked = true;
    }
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(
        new PeeringError(
          'UNSUPPORTED_MEDIA_TYPE',
          `charset ${charset} is not supported; send UTF-8`,
          'content-type',
        ),
      );
      return;
    }
    try {
      done(null, parseJsonBody(body));
    } catch (error) {
      done(error as Error);
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) =>
    parseJson(request, body as Buffer, done),
  );
  app.addContentTypeParser(
    /^application\/[a-z0-9.+-]*\+json$/,
    { parseAs: 'buffer' },
    (request, body, done) => parseJson(request, body as Buffer, done),
  );

  // Declared up front so every request object keeps one shape; adding the property later costs V8 deopts.
  app.decorateRequest('identity', undefined);
  app.decorateRequest('signedBody', undefined);
  // Hooks on every request are callback-style: an async hook costs a promise and a microtask turn each time.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // Route first (RFC 9110 §15.5.5-6): a request no route takes is 404 or 405 whatever its body, which is
    // then never parsed (fastify would otherwise parse it for the not-found handler and answer 400 or 415).
    if (request.is404) {
      void answerUnrouted(request, reply, options.basePath);
      return;
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: reply.statusCode });
    metrics.duration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((error, request, reply) =>
    sendError(reply, request, toPeeringError(error), gate.algorithms),
  );
  app.setNotFoundHandler((request, reply) => answerUnrouted(request, reply, options.basePath));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await options.ready?.();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'not ready' });
    }
  });
  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  await app.register(
    async (api) => {
      api.addHook('onRequest', (request, _reply, done) => {
        const accept = request.headers.accept;
        if (accept === undefined || acceptsJson(accept)) {
          done();
          return;
        }
        done(
          new PeeringError(
            'NOT_ACCEPTABLE',
            `this API answers only application/json, not ${accept.slice(0, 200)}`,
            'accept',
          ),
        );
      });
      api.get('/openapi.json', async () => document);

      api.register(async (secured) => {
        secured.addHook('onRequest', (request, reply, done) => {
          const credentials = presentedCredentials(request.headers.authorization);
          // Authenticators read bearer tokens; a DPoP token is the same token68, its proof checked by the gate.
          const authorization =
            credentials?.scheme === 'dpop' ? `Bearer ${credentials.token}` : request.headers.authorization;
          const checked = options.authenticator.authenticate(authorization).then(async (identity) => {
            if (credentials === undefined) return identity;
            const path = (request.url.split('?')[0] ?? '').slice(options.basePath.length);
            const { proven, nonce, bodySha256 } = await gate.check(identity, {
              method: request.method,
              url: `${publicBase}${path}`,
              credentials,
              proofs: dpopHeaders(request),
              signed: () => ({
                // RFC 9421 §2.2.2: the full target URI, ours and not the Host header's, query included.
                targetUri: new URL(`${publicBase}${request.url.slice(options.basePath.length)}`).href,
                headers: (name) => fieldOf(request, name),
                hasBody: hasBody(request),
              }),
            });
            metrics.authenticated.inc({ proof: proven });
            if (nonce !== undefined) reply.header('dpop-nonce', nonce);
            if (bodySha256 !== undefined) request.signedBody = { sha256: bodySha256, checked: false };
            return identity;
          });
          checked.then((identity) => {
            const wait = limiter.take(whoOf(identity));
            if (wait > 0) {
              done(
                new PeeringError('RATE_LIMITED', `too many requests; retry in ${wait} s`, 'request', {
                  retryAfterSeconds: wait,
                }),
              );
              return;
            }
            request.identity = identity;
            done();
          }, done);
        });
        // A signed body the parser never saw (a body on a GET, or one fastify does not parse) is refused here,
        // before any handler; a request without a body is held to a digest of no bytes, if it states one.
        secured.addHook('preHandler', (request, _reply, done) => {
          const signed = request.signedBody;
          if (signed === undefined || signed.checked) {
            done();
            return;
          }
          const empty = createHash('sha256').digest();
          done(
            hasBody(request) || (signed.sha256 !== null && !signed.sha256.equals(empty))
              ? digestMismatch(signed)
              : undefined,
          );
        });

        secured.post('/sessions', async (request) => {
          const envelope = parse(SessionRequestEnvelopeSchema, asEnvelope(request.body));
          const limit = receiver.policy.maxSessionsPerRequest;
          if (envelope.sessions.length > limit) {
            throw new PeeringError('TOO_MANY_SESSIONS', `at most ${limit} sessions per request`, 'sessions');
          }
          const answer = await receiver.requestSessions(identityOf(request), {
            clientRequestId: envelope.request_id,
            returnUrl: envelope.return_url,
            sessions: envelope.sessions,
          });
          request.log.info(
            {
              requestId: answer.request_id,
              accepted: answer.sessions.length,
              rejected: answer.errors.length,
              by: identityOf(request).subject,
            },
            'sessions requested',
          );
          metrics.sessionDecisions.inc({ outcome: 'accepted' }, answer.sessions.length);
          for (const error of answer.errors) metrics.sessionDecisions.inc({ outcome: error.code });
          return answer;
        });

        secured.get('/sessions', async (request, reply) => {
          const query = parse(ListSessionsQuerySchema, request.query);
          const identity = identityOf(request);
          const binding = {
            route: 'sessions',
            asn: query.asn,
            request_id: query.request_id,
            who: whoOf(identity),
          };
          const page = await receiver.listSessions(identity, {
            asn: query.asn,
            requestId: query.request_id,
            cursor: query.next_token === undefined ? undefined : tokens.open(binding, query.next_token),
            limit: query.max_results || options.pageSize,
          });
          // Written by hand from each session's JSON, which frozen sessions keep (the page's main cost was
          // serialising 100 sessions on every request).
          const next =
            page.cursor === undefined
              ? ''
              : `,"next_token":${JSON.stringify(tokens.issue(binding, page.cursor))}`;
          reply.type('application/json');
          return `{"sessions":[${page.sessions.map(jsonText).join(',')}]${next}}`;
        });

        secured.get<{ Params: { session_id: string } }>('/sessions/:session_id', async (request, reply) => {
          const session = await receiver.getSession(identityOf(request), request.params.session_id);
          reply.type('application/json');
          return jsonText(session);
        });

        secured.delete<{ Params: { session_id: string } }>(
          '/sessions/:session_id',
          async (request, reply) => {
            await receiver.removeSession(identityOf(request), request.params.session_id);
            request.log.info(
              { sessionId: request.params.session_id, by: identityOf(request).subject },
              'session removed',
            );
            return reply.code(204).send();
          },
        );

        secured.delete('/sessions', async (request) => {
          const references = parse(BatchDeleteEnvelopeSchema, asEnvelope(request.body)).sessions;
          // A malformed id is a malformed request (as in POST's envelope); ids that are well-formed but unknown
          // are answered one by one.
          const malformed = references.findIndex((r) => !SESSION_ID_PATTERN.test(r.session_id));
          if (malformed !== -1) {
            const text = references[malformed]!.session_id.slice(0, 64);
            throw new PeeringError(
              'INVALID_SESSION_ID',
              `"${text}" is not a session id (a UUID)`,
              `sessions[${malformed}].session_id`,
            );
          }
          return receiver.removeSessions(
            identityOf(request),
            references.map((r) => r.session_id),
          );
        });

        secured.get('/locations', async (request) => {
          const query = parse(ListLocationsQuerySchema, request.query);
          const binding = { route: 'locations', asn: query.asn, type: query.location_type };
          const all = await receiver.listLocations(query.asn, query.location_type);
          const start = query.next_token === undefined ? 0 : Number(tokens.open(binding, query.next_token));
          const size = query.max_results || options.pageSize;
          const end = start + size;
          const locations = all.slice(start, end);
          return end < all.length
            ? { locations, next_token: tokens.issue(binding, String(end)) }
            : { locations };
        });
      });
    },
    { prefix: options.basePath },
  );

  return app;
}

/**
 * Whether an `Accept` header admits our JSON (RFC 9110 §12.5.1): `application/json`, `application/*` or `*\/*`
 * with a weight above 0. A 406 for anything else beats a body the client said it cannot read.
 */
export function acceptsJson(accept: string): boolean {
  for (const range of accept.split(',')) {
    const [type = '', ...parameters] = range.split(';');
    const name = type.trim().toLowerCase();
    if (name !== 'application/json' && name !== 'application/*' && name !== '*/*') continue;
    const weight = parameters
      .map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p)?.[1])
      .find((q) => q !== undefined);
    if (weight === undefined || Number(weight) > 0) return true;
  }
  return false;
}

/** 404 for a path we do not serve; 405 with `Allow` for a method one of our paths does not take. */
function answerUnrouted(request: FastifyRequest, reply: FastifyReply, basePath: string) {
  const path = request.url.split('?')[0] ?? '';
  const rest = path.startsWith(basePath) ? path.slice(basePath.length) : undefined;
  const allow = rest === undefined ? undefined : ROUTES.find(([r]) => r.test(rest))?.[1];
  if (allow === undefined) {
    return sendError(
      reply,
      request,
      new PeeringError('NOT_FOUND', `no route ${request.method} ${path}`, 'request'),
    );
  }
  reply.header('allow', allow);
  const problem = new PeeringError(
    'METHOD_NOT_ALLOWED',
    `${request.method} is not supported on ${path}`,
    'request',
  );
  return sendError(reply, request, problem);
}

/**
 * Reads and drops what is left of a request body after the answer was sent, keeping the connection, up to a
 * bound; past it the connection is closed.
 */
function discardBody(request: FastifyRequest): void {
  const raw = request.raw;
  if (raw.readableEnded) return;
  let left = DISCARD_BYTES;
  const cut = () => raw.socket?.destroy();
  const timer = setTimeout(cut, DISCARD_MS);
  timer.unref();
  raw.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) cut();
  });
  raw.once('close', () => clearTimeout(timer));
  raw.resume();
}

/** JSON text of a frozen (unchanging) value, kept with it; anything else is serialised each time. */
const JSON_TEXTS = new WeakMap<object, string>();
function jsonText(value: object): string {
  if (!Object.isFrozen(value)) return JSON.stringify(value);
  let text = JSON_TEXTS.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    JSON_TEXTS.set(value, text);
  }
  return text;
}

/** Every `DPoP` header field as received: Node folds repeated fields into one, which would hide a second. */
function dpopHeaders(request: FastifyRequest): string[] {
  const raw = request.raw.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'dpop') values.push(raw[i + 1]!);
  }
  return values;
}

/**
 * A header field as RFC 9421 §2.1 covers it: every field line of that name, in order, joined by ", ". Node keeps
 * only the first of some repeated fields (content-type, authorization), which would let a second one go unsigned.
 */
function fieldOf(request: FastifyRequest, name: string): string | undefined {
  const raw = request.raw.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === name) values.push(raw[i + 1]!.trim());
  }
  return values.length === 0 ? undefined : values.join(', ');
}

/** Whether a body comes with the request (RFC 9112 §6.3): a Content-Length above 0, or any Transfer-Encoding. */
function hasBody(request: FastifyRequest): boolean {
  const headers = request.headers;
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) !== 0;
}

function digestMismatch(signed: SignedBody): SignatureRefusal {
  return new SignatureRefusal(
    'CONTENT_DIGEST_MISMATCH',
    signed.sha256 === null
      ? 'the Content-Digest states no sha-256 for the body that came'
      : 'the Content-Digest is not the sha-256 of the body received',
  );
}

/** Both body forms of the draft and the spec: a bare array means `{sessions: [...]}`. */
function asEnvelope(body: unknown): unknown {
  return Array.isArray(body) ? { sessions: body } : body;
}

function identityOf(request: FastifyRequest): Identity {
  if (!request.identity)
    throw new PeeringError('UNAUTHENTICATED', 'a bearer token is required', 'authorization');
  return request.identity;
}

function whoOf(identity: Identity): string {
  return `${identity.issuer}|${identity.subject}`;
}

/** Validates with a schema of `wire.ts`; the error names every offending field. */
function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value ?? undefined);
  if (result.success) return result.data;
  const details = issuesToFieldErrors(result.error.issues);
  const first = details[0];
  const tooMany = result.error.issues.some(
    (i) => i.code === 'too_big' && i.path[i.path.length - 1] === 'sessions',
  );
  if (tooMany) return raise('TOO_MANY_SESSIONS', 'too many sessions in one request', 'sessions');
  throw new PeeringError(
    first?.code ?? 'INVALID_FIELD',
    first?.errors[0] ?? 'invalid request',
    first?.name ?? 'request',
    {
      details,
    },
  );
}

function raise(code: ErrorCode, message: string, field: string): never {
  throw new PeeringError(code, message, field);
}

function toPeeringError(error: unknown): PeeringError {
  if (error instanceof PeeringError) return error;
  const code = (error as { code?: string }).code;
  const mapped = code === undefined ? undefined : FASTIFY_ERRORS[code];
  if (mapped)
    return new PeeringError(
      mapped,
      (error as Error).message,
      mapped === 'INVALID_FIELD' ? 'path' : 'request',
    );
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new PeeringError('MALFORMED_BODY', (error as Error).message, 'request');
  }
  return new PeeringError('INTERNAL', 'an internal error occurred; it has been logged', 'request', {
    cause: error,
  });
}

function sendError(
  reply: FastifyReply,
  request: FastifyRequest,
  error: PeeringError,
  dpopAlgorithms: readonly string[] = [],
) {
  if (error.code === 'INTERNAL') request.log.error({ err: error.cause }, 'internal error');
  // The body stays generic; the operator needs to know which dependency failed and how.
  else if (error.status === 503) request.log.warn({ err: error.cause, code: error.code }, error.message);
  if (error.status === 401) {
    // RFC 6750 §3.1: a request without credentials gets the challenge and no error code.
    const sentBearer = /^bearer\s/i.test(request.headers.authorization ?? '');
    const sentDpop = /^dpop\s/i.test(request.headers.authorization ?? '');
    const description = error.message.replace(/["\\]/g, '');
    if (error instanceof SignatureRefusal) {
      // The token and its proof were good; the request around them was not as it must be (RFC 6750 §3.1
      // invalid_request), and Accept-Signature (RFC 9421 §5.1) says what signature we want.
      reply.header(
        'www-authenticate',
        `DPoP realm="peering-api", error="invalid_request", error_description="${description}"` +
          (dpopAlgorithms.length > 0 ? `, algs="${dpopAlgorithms.join(' ')}"` : ''),
      );
      reply.header(
        'accept-signature',
        acceptSignature((name) => fieldOf(request, name), hasBody(request)),
      );
    } else if (error instanceof DpopRefusal || sentDpop) {
      // RFC 9449 §7.1: the DPoP challenge, with the algorithms we take and, for use_dpop_nonce, the nonce.
      const challenge = error instanceof DpopRefusal ? error.challenge : 'invalid_token';
      reply.header(
        'www-authenticate',
        `DPoP realm="peering-api", error="${challenge}", error_description="${description}"` +
          (dpopAlgorithms.length > 0 ? `, algs="${dpopAlgorithms.join(' ')}"` : ''),
      );
      if (error instanceof DpopRefusal && error.nonce !== undefined) reply.header('dpop-nonce', error.nonce);
    } else {
      reply.header(
        'www-authenticate',
        sentBearer
          ? `Bearer realm="peering-api", error="invalid_token", error_description="${description}"`
          : 'Bearer realm="peering-api"',
      );
    }
  }
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  if (error.code === 'BODY_TOO_LARGE') {
    // Fastify asks for `Connection: close` here, and closing with the body unread resets the connection under a
    // client still sending it: most clients then report EPIPE, never this answer. Read the rest instead.
    reply.removeHeader('connection');
    reply.raw.once('finish', () => discardBody(request));
  }
  return reply.code(error.status).type('application/json').send(error.toBody());
}
