import { z } from 'zod';
import { ERROR_CATALOG, type ErrorCode } from '../domain/errors.js';
import { LocationSchema, PeeringTypeSchema } from '../domain/location.js';
import {
  AsnSchema,
  ClientRequestIdSchema,
  MAX_SESSIONS_PER_REQUEST,
  SESSION_ID_PATTERN,
} from '../domain/session.js';
import { SessionInputSchema, SessionSchema } from '../domain/session-wire.js';

/**
 * The envelopes of the Peering API on the wire (docs/api.md §6-§11). Sessions themselves are in
 * `domain/session.ts`; these schemas are what the server validates with and what the OpenAPI document is
 * generated from, so the two cannot drift apart.
 */

const ERROR_CODES = Object.keys(ERROR_CATALOG) as [ErrorCode, ...ErrorCode[]];

export const FieldErrorSchema = z
  .object({
    name: z.string().meta({ description: "The field path, e.g. sessions[2].peer_ip, or 'request'" }),
    errors: z.array(z.string()).meta({ description: 'Human-readable messages' }),
    code: z.enum(ERROR_CODES).meta({ description: 'Stable machine code from the error catalog' }),
  })
  .meta({ title: 'FieldError' });

export const ErrorBodySchema = z.object({ errors: z.array(FieldErrorSchema) }).meta({ title: 'Error' });

/** `POST /sessions` body in its object form (the draft's Session Array). */
function sessionArrayObject<T extends z.ZodType>(item: T) {
  return z.object({
    request_id: ClientRequestIdSchema.optional().meta({
      description: 'Client-proposed id, remembered for idempotency',
    }),
    return_url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .regex(/^[Hh][Tt][Tt][Pp][Ss]?:\/\/[^/@?#]+([/?]|$)/, 'must be an http(s) URL without credentials')
      .optional()
      .meta({
        format: 'uri',
        description:
          "The initiator's own Peering API (base URL, e.g. https://peering.example.net/v0.1), where the receiver may send a counter-request",
      }),
    sessions: z.array(item).min(1).max(MAX_SESSIONS_PER_REQUEST),
  });
}
/**
 * What the server checks before judging sessions one by one (so that 3 good of 5 are still accepted). A bare
 * array body is read as `{sessions: [...]}` first, so field names are the same for both forms.
 */
export const SessionRequestEnvelopeSchema = sessionArrayObject(z.unknown());
/** Both body forms, as documented: a bare array (the spec) or the object (the draft). */
export const SessionRequestBodySchema = z
  .union([
    z.array(SessionInputSchema).min(1).max(MAX_SESSIONS_PER_REQUEST),
    sessionArrayObject(SessionInputSchema),
  ])
  .meta({ title: 'SessionArrayRequest' });

export const SessionArrayResponseSchema = z
  .object({
    request_id: z.uuid().meta({ description: "The server's request id, the definitive one" }),
    sessions: z
      .array(SessionSchema)
      .meta({ description: 'Accepted sessions (existing ones for repeated requests)' }),
    errors: z
      .array(FieldErrorSchema)
      .meta({ description: 'One entry per rejected session field, named sessions[i]…' }),
  })
  .meta({ title: 'SessionArrayResponse' });

const NextTokenSchema = z
  .string()
  .min(1)
  .max(1024)
  .meta({ description: 'Opaque token of the next page; absent on the last' });

export const SessionListSchema = z
  .object({ sessions: z.array(SessionSchema), next_token: NextTokenSchema.optional() })
  .meta({ title: 'SessionList' });

export const LocationListingSchema = LocationSchema.extend({
  asn: AsnSchema.meta({ description: 'Our ASN at this location' }),
  name: z.string().optional().meta({ description: 'The IX or facility name from PeeringDB' }),
  local_ips: z.array(z.string()).optional().meta({ description: 'Our addresses at this IX' }),
}).meta({ title: 'LocationListing' });

export const LocationListSchema = z
  .object({ locations: z.array(LocationListingSchema), next_token: NextTokenSchema.optional() })
  .meta({ title: 'LocationList' });

const SessionReferenceSchema = z.object({
  session_id: z.string().max(64).meta({
    format: 'uuid',
    pattern: SESSION_ID_PATTERN.source,
    description: 'A session id as the server gave it',
  }),
});
const referenceList = z.array(SessionReferenceSchema).min(1).max(MAX_SESSIONS_PER_REQUEST);
/** Batch delete body, read like `POST`: a bare array becomes `{sessions: [...]}` before checking. */
export const BatchDeleteEnvelopeSchema = z.object({ sessions: referenceList });
export const BatchDeleteBodySchema = z
  .union([referenceList, BatchDeleteEnvelopeSchema])
  .meta({ title: 'SessionReferenceArray' });

export const BatchDeleteResponseSchema = z
  .object({ sessions: z.array(SessionSchema), errors: z.array(FieldErrorSchema) })
  .meta({ title: 'BatchDeleteResponse' });

/**
 * Query integers and their bounds. On the wire a query value is text, so the schema checks the digits and then
 * the range; the OpenAPI document shows it as what it means, an integer within the bounds (`openapi.ts`).
 */
export const QUERY_INTEGERS = new WeakMap<z.ZodType, { minimum: number; maximum: number }>();

/** A decimal integer in a query string, within bounds. */
function queryInteger(minimum: number, maximum: number) {
  const schema = z
    .string()
    .regex(/^\d{1,10}$/, 'must be a decimal integer')
    .transform(Number)
    .pipe(z.number().int().min(minimum).max(maximum));
  QUERY_INTEGERS.set(schema, { minimum, maximum });
  return schema;
}

const maxResults = queryInteger(0, 100)
  .optional()
  .meta({ description: 'Page size 1-100; 0 or absent: the server default' });

export const ListSessionsQuerySchema = z.object({
  asn: queryInteger(1, 4294967295)
    .optional()
    .meta({ description: "The caller's ASN; absent: every ASN it holds" }),
  request_id: ClientRequestIdSchema.optional(),
  max_results: maxResults,
  next_token: NextTokenSchema.optional(),
});

export const ListLocationsQuerySchema = z.object({
  asn: queryInteger(1, 4294967295).optional().meta({
    description:
      'Our ASN to peer with; absent: all of ours. An ASN we do not serve has no locations (an empty list)',
  }),
  location_type: PeeringTypeSchema.optional(),
  max_results: maxResults,
  next_token: NextTokenSchema.optional(),
});
