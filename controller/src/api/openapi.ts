import { z } from 'zod';
import { ERROR_CATALOG } from '../domain/errors.js';
import { SessionInputSchema, SessionSchema } from '../domain/session-wire.js';
import {
  BatchDeleteBodySchema,
  BatchDeleteResponseSchema,
  ErrorBodySchema,
  ListLocationsQuerySchema,
  ListSessionsQuerySchema,
  LocationListSchema,
  SessionArrayResponseSchema,
  SessionListSchema,
  SessionRequestBodySchema,
} from './wire.js';

type JsonObject = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonObject;
  delete out.$schema;
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonObject) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

const ERRORS = {
  400: errorResponse('Malformed request; each error names the field'),
  401: {
    description: 'No bearer token, or an invalid one',
    headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'RFC 6750 challenge' } },
    content: json(ref('Error')),
  },
  403: errorResponse('The token does not hold the ASN with the permission needed'),
  404: errorResponse('No such session is visible to the caller'),
  413: errorResponse('The body is too large'),
  415: errorResponse('The body is not application/json'),
  422: errorResponse('Human intervention required'),
  429: {
    description: 'Rate limited',
    headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' } },
    content: json(ref('Error')),
  },
  503: errorResponse('The identity provider cannot be reached'),
} as const;

function pick<K extends keyof typeof ERRORS>(...codes: K[]) {
  return Object.fromEntries(codes.map((c) => [String(c), ERRORS[c]]));
}

function queryParameters(schema: z.ZodObject): JsonObject[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const s = jsonSchema(field as z.ZodType, 'input');
    const description = s.description;
    delete s.description;
    return {
      name,
      in: 'query',
      required: !(field as z.ZodType).safeParse(undefined).success,
      schema: s,
      ...(description ? { description } : {}),
    };
  });
}

const sessionIdParameter = {
  name: 'session_id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
  description: 'The id the server returned on creation or in a list',
};

const TRACE_HEADER = {
  'X-Request-Id': { schema: { type: 'string' }, description: 'Request-tracing id, echoed or generated' },
};

/**
 * Our OpenAPI 3.1 document (docs/api.md §1), generated from the very schemas the server validates with.
 * The checked-in copy in `openapi/peering-api.json` is this document with `servers: [{url: '/v0.1'}]`; a test
 * fails when the two differ.
 */
export function openApiDocument(serverUrl = '/v0.1'): JsonObject {
  const withTrace = (responses: Record<string, JsonObject>) =>
    Object.fromEntries(
      Object.entries(responses).map(([code, r]) => [
        code,
        { ...r, headers: { ...TRACE_HEADER, ...((r.headers as JsonObject) ?? {}) } },
      ]),
    );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Peering API (peering-operator)',
      version: '0.1.0',
      description:
        'The IETF draft-ramseyer-grow-peering-api, with the wire decisions of peering-operator: `local_*` is the ' +
        'receiving server, `peer_*` the initiator (the flipped reading is accepted and answered in kind); ' +
        'errors carry a field path and a stable code. Derived from bgp/autopeer api/openapi.yaml ' +
        '(Copyright the autopeer authors, Apache-2.0).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    paths: {
      '/sessions': {
        post: {
          operationId: 'requestSessions',
          summary: 'Request BGP sessions (partial acceptance: rejected ones are listed in errors)',
          requestBody: { required: true, content: json(ref('SessionArrayRequest')) },
          responses: withTrace({
            200: {
              description: 'Accepted sessions and per-session errors',
              content: json(ref('SessionArrayResponse')),
            },
            ...pick(400, 401, 403, 413, 415, 422, 429, 503),
          }),
        },
        get: {
          operationId: 'listSessions',
          summary: "List the caller's sessions (paginated)",
          parameters: queryParameters(ListSessionsQuerySchema),
          responses: withTrace({
            200: { description: 'A page of sessions', content: json(ref('SessionList')) },
            ...pick(400, 401, 403, 429, 503),
          }),
        },
        delete: {
          operationId: 'deleteSessions',
          summary: 'Remove several sessions',
          requestBody: { required: true, content: json(ref('SessionReferenceArray')) },
          responses: withTrace({
            200: {
              description: 'Removed sessions and per-session errors',
              content: json(ref('BatchDeleteResponse')),
            },
            ...pick(400, 401, 403, 413, 415, 429, 503),
          }),
        },
      },
      '/sessions/{session_id}': {
        parameters: [sessionIdParameter],
        get: {
          operationId: 'getSession',
          summary: 'One session',
          responses: withTrace({
            200: { description: 'The session', content: json(ref('Session')) },
            ...pick(400, 401, 404, 429, 503),
          }),
        },
        delete: {
          operationId: 'deleteSession',
          summary: 'Remove a session (de-peer)',
          responses: withTrace({
            204: { description: 'Removed' },
            ...pick(400, 401, 403, 404, 422, 429, 503),
          }),
        },
      },
      '/locations': {
        get: {
          operationId: 'listLocations',
          summary: 'Where the server network can be peered with (paginated)',
          parameters: queryParameters(ListLocationsQuerySchema),
          responses: withTrace({
            200: { description: 'A page of locations', content: json(ref('LocationList')) },
            ...pick(400, 401, 403, 429, 503),
          }),
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApi',
          summary: 'This document',
          security: [],
          responses: withTrace({
            200: { description: 'The OpenAPI document', content: json({ type: 'object' }) },
          }),
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A PeeringDB access token, or an RFC 9068 JWT access token whose audience is this API',
        },
      },
      schemas: {
        Session: jsonSchema(SessionSchema, 'output'),
        SessionInput: jsonSchema(SessionInputSchema, 'input'),
        SessionArrayRequest: jsonSchema(SessionRequestBodySchema, 'input'),
        SessionArrayResponse: jsonSchema(SessionArrayResponseSchema, 'output'),
        SessionList: jsonSchema(SessionListSchema, 'output'),
        LocationList: jsonSchema(LocationListSchema, 'output'),
        SessionReferenceArray: jsonSchema(BatchDeleteBodySchema, 'input'),
        BatchDeleteResponse: jsonSchema(BatchDeleteResponseSchema, 'output'),
        Error: jsonSchema(ErrorBodySchema, 'output'),
      },
    },
    'x-error-codes': Object.fromEntries(
      Object.entries(ERROR_CATALOG).map(([code, entry]) => [
        code,
        { status: entry.status, summary: entry.summary },
      ]),
    ),
  };
}
