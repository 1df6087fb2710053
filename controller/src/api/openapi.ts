import { z } from 'zod';
import { ERROR_CATALOG } from '../domain/errors.js';
import { SessionInputSchema, SessionSchema } from '../domain/session-wire.js';
import {
  QUERY_INTEGERS,
  BatchDeleteBodySchema,
  BatchDeleteResponseSchema,
  ErrorBodySchema,
  FieldErrorSchema,
  ListLocationsQuerySchema,
  ListSessionsQuerySchema,
  LocationListSchema,
  SessionArrayResponseSchema,
  SessionListSchema,
  SessionRequestBodySchema,
} from './wire.js';

type JsonObject = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const out = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema: generated }) => {
      const bounds = QUERY_INTEGERS.get(zodSchema as unknown as z.ZodType);
      if (bounds === undefined) return;
      // A query integer is checked as digits then range; documented as the integer it is, with its range.
      for (const key of Object.keys(generated)) delete (generated as JsonObject)[key];
      Object.assign(generated, { type: 'integer', ...bounds });
    },
  }) as JsonObject;
  delete out.$schema;
  return io === 'input' ? asRequestSchema(out) : out;
}

/**
 * What a request schema says beyond zod's output: no object may carry a `__proto__` key (refused on purpose,
 * docs/api.md "Limits"), and no field carries an example of its own. Field examples combine into requests that
 * break the session rules (one address on both sides); the document gives whole, coherent request examples.
 */
function asRequestSchema(schema: JsonObject): JsonObject {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) if (key !== 'example') out[key] = walk(value);
    if (out.type === 'object') {
      out.propertyNames = { not: { const: '__proto__' } };
      // Unknown fields are ignored (docs/api.md §4) but still parsed, and the rule holds at any depth of them.
      if (out.additionalProperties === undefined) out.additionalProperties = ref('JsonValue');
    }
    return out;
  };
  return walk(schema) as JsonObject;
}

/**
 * Replaces every copy of a named component inside the others by a `$ref` to it, so that each concept is
 * written once in the document (and `SessionInput` is the item schema of a request, not an orphan).
 */
function factorComponents(schemas: Record<string, JsonObject>): Record<string, JsonObject> {
  const names = Object.keys(schemas);
  const texts = new Map(names.map((name) => [JSON.stringify(schemas[name]), name]));
  const walk = (node: unknown, self: string): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n, self));
    if (typeof node !== 'object' || node === null) return node;
    const named = texts.get(JSON.stringify(node));
    if (named !== undefined && named !== self) return ref(named);
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, self)]));
  };
  return Object.fromEntries(
    names.map((name) => [
      name,
      Object.fromEntries(Object.entries(schemas[name] ?? {}).map(([k, v]) => [k, walk(v, name)])),
    ]),
  );
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonObject) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

/** Any JSON value whose objects, at any depth, have no `__proto__` key: what an unknown field may hold. */
const JSON_VALUE: JsonObject = {
  title: 'JsonValue',
  description: 'Any JSON value without a "__proto__" key at any depth (refused on purpose)',
  anyOf: [
    { type: ['null', 'boolean', 'number', 'string'] },
    { type: 'array', items: ref('JsonValue') },
    {
      type: 'object',
      propertyNames: { not: { const: '__proto__' } },
      additionalProperties: ref('JsonValue'),
    },
  ],
};

const ERRORS = {
  400: errorResponse('Malformed request; each error names the field'),
  401: {
    description: 'No access token, an invalid one, or (DPoP) a proof that fails a check',
    headers: {
      'WWW-Authenticate': {
        schema: { type: 'string' },
        description: 'RFC 6750 Bearer challenge, or RFC 9449 DPoP challenge for DPoP callers',
      },
      'DPoP-Nonce': {
        schema: { type: 'string' },
        description: 'The nonce the next DPoP proof must carry (with error use_dpop_nonce)',
      },
    },
    content: json(ref('Error')),
  },
  403: errorResponse('The token does not hold the ASN with the permission needed'),
  404: errorResponse('No such session is visible to the caller'),
  413: errorResponse('The body is too large'),
  406: errorResponse('The Accept header admits no JSON'),
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

/** One request the example server of the tests accepts as it is (`examples/peeringdb`, AS64501 asks AS64500). */
const REQUEST_EXAMPLE = {
  return_url: 'https://peering.as64501.example/v0.1',
  sessions: [
    {
      local_asn: 64500,
      local_ip: '192.0.2.1',
      peer_asn: 64501,
      peer_ip: '192.0.2.2',
      peer_type: 'public',
      location: { id: 'pdb:ix:1', type: 'public' },
    },
  ],
};

/** Where a stateful client (or tester) finds the id the by-id operations take. */
const SESSION_LINKS = {
  GetSession: {
    operationId: 'getSession',
    parameters: { session_id: '$response.body#/sessions/0/session_id' },
    description: 'The first session of the answer',
  },
  DeleteSession: {
    operationId: 'deleteSession',
    parameters: { session_id: '$response.body#/sessions/0/session_id' },
    description: 'Remove the first session of the answer',
  },
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
    security: [{ bearer: [] }, { dpop: [] }],
    tags: [
      { name: 'sessions', description: 'BGP sessions: request, follow, remove' },
      { name: 'locations', description: 'Where the server network can be peered with' },
      { name: 'meta', description: 'This document' },
    ],
    paths: {
      '/sessions': {
        post: {
          operationId: 'requestSessions',
          tags: ['sessions'],
          summary: 'Request BGP sessions (partial acceptance: rejected ones are listed in errors)',
          description:
            'Each session is judged on its own against PeeringDB and the server policy: accepted ones come back ' +
            'with their id and status (`approved` or `pending`), rejected ones as `errors` named ' +
            '`sessions[i].<field>`. When none is accepted the answer is `400` with the same errors. A session ' +
            'whose natural key exists is answered as it is when asked with the same terms; with other terms it ' +
            'is an error `SESSION_EXISTS_WITH_OTHER_TERMS`. A client `request_id` makes a retry return the ' +
            'recorded answer.',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: ref('SessionArrayRequest'),
                examples: { oneSession: { summary: 'AS64501 asks AS64500 at IX 1', value: REQUEST_EXAMPLE } },
              },
            },
          },
          responses: withTrace({
            200: {
              description: 'Accepted sessions and per-session errors',
              content: json(ref('SessionArrayResponse')),
              links: SESSION_LINKS,
            },
            ...pick(400, 401, 403, 406, 413, 415, 422, 429, 503),
          }),
        },
        get: {
          operationId: 'listSessions',
          tags: ['sessions'],
          summary: "List the caller's sessions (paginated)",
          description:
            'Sessions of the ASNs the caller holds, in creation order; `next_token` continues a listing and is ' +
            'bound to its query and caller.',
          parameters: queryParameters(ListSessionsQuerySchema),
          responses: withTrace({
            200: {
              description: 'A page of sessions',
              content: json(ref('SessionList')),
              links: SESSION_LINKS,
            },
            ...pick(400, 401, 403, 406, 429, 503),
          }),
        },
        delete: {
          operationId: 'deleteSessions',
          tags: ['sessions'],
          summary: 'Remove several sessions',
          description:
            'Each id is removed on its own: removed sessions come back in `sessions`, the others as `errors` ' +
            '(an id named twice is removed once, the repeat is `DUPLICATE_IN_REQUEST`).',
          requestBody: { required: true, content: json(ref('SessionReferenceArray')) },
          responses: withTrace({
            200: {
              description: 'Removed sessions and per-session errors',
              content: json(ref('BatchDeleteResponse')),
            },
            ...pick(400, 401, 403, 406, 413, 415, 429, 503),
          }),
        },
      },
      '/sessions/{session_id}': {
        parameters: [sessionIdParameter],
        get: {
          operationId: 'getSession',
          tags: ['sessions'],
          summary: 'One session',
          description:
            'A session of an ASN the caller holds. A session that does not exist and one of another network ' +
            'are the same `404`, so ids cannot be probed.',
          responses: withTrace({
            200: { description: 'The session', content: json(ref('Session')) },
            ...pick(400, 401, 404, 406, 429, 503),
          }),
        },
        delete: {
          operationId: 'deleteSession',
          tags: ['sessions'],
          summary: 'Remove a session (de-peer)',
          description:
            'Gone from every read at once, then taken off the routers. A caller that can see the session but ' +
            "not manage its network's sessions gets `403`.",
          responses: withTrace({
            204: { description: 'Removed' },
            ...pick(400, 401, 403, 404, 406, 422, 429, 503),
          }),
        },
      },
      '/locations': {
        get: {
          operationId: 'listLocations',
          tags: ['locations'],
          summary: 'Where the server network can be peered with (paginated)',
          description:
            'Internet exchanges (`public`) and facilities (`private`) where the server network is present in ' +
            'PeeringDB, with its addresses at each exchange.',
          parameters: queryParameters(ListLocationsQuerySchema),
          responses: withTrace({
            200: { description: 'A page of locations', content: json(ref('LocationList')) },
            ...pick(400, 401, 403, 406, 429, 503),
          }),
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApi',
          tags: ['meta'],
          summary: 'This document',
          description: "Served without authentication, with this server's URL in `servers`.",
          security: [],
          responses: withTrace({
            200: { description: 'The OpenAPI document', content: json({ type: 'object' }) },
            ...pick(406),
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
        dpop: {
          type: 'http',
          scheme: 'DPoP',
          description:
            'RFC 9449: a DPoP-bound JWT access token (cnf.jkt) as `Authorization: DPoP <token>`, with a fresh ' +
            'proof of possession of its key in the `DPoP` header of every request. Callers held to the ' +
            '`dpop+signature` policy also sign every request with that key (RFC 9421 HTTP Message Signatures, ' +
            '`ecdsa-p256-sha256`, `keyid` = the key thumbprint, with `created` and `nonce`) over `@method`, ' +
            '`@target-uri`, `authorization`, `dpop`, and `content-digest` (RFC 9530 `sha-256`, required with a ' +
            'body) and `content-type` when present, in `Signature-Input` and `Signature`',
        },
      },
      schemas: factorComponents({
        FieldError: jsonSchema(FieldErrorSchema, 'output'),
        Session: jsonSchema(SessionSchema, 'output'),
        SessionInput: jsonSchema(SessionInputSchema, 'input'),
        SessionArrayRequest: jsonSchema(SessionRequestBodySchema, 'input'),
        SessionArrayResponse: jsonSchema(SessionArrayResponseSchema, 'output'),
        SessionList: jsonSchema(SessionListSchema, 'output'),
        LocationList: jsonSchema(LocationListSchema, 'output'),
        SessionReferenceArray: jsonSchema(BatchDeleteBodySchema, 'input'),
        BatchDeleteResponse: jsonSchema(BatchDeleteResponseSchema, 'output'),
        Error: jsonSchema(ErrorBodySchema, 'output'),
        JsonValue: JSON_VALUE,
      }),
    },
    'x-error-codes': Object.fromEntries(
      Object.entries(ERROR_CATALOG).map(([code, entry]) => [
        code,
        { status: entry.status, summary: entry.summary },
      ]),
    ),
  };
}
