import { z } from 'zod';
import { locationKind, type Location } from '../domain/location.js';
import {
  BgpRoleSchema,
  canonicalAddress,
  isSessionStatus,
  type SessionStatus,
  type SessionTerms,
} from '../domain/session.js';
import { SessionSchema, swapFieldName, termsFromWire } from '../domain/session-wire.js';
import {
  LocationListSchema,
  LocationListingSchema,
  SessionArrayResponseSchema,
  SessionListSchema,
  BatchDeleteResponseSchema,
} from '../api/wire.js';
import type { RemoteFieldError } from './errors.js';

/**
 * Tolerant reading of remote answers (docs/api.md §3, §5, §11). The schemas are our server's own (`wire.ts`,
 * `domain/session.ts`), loosened where other implementations are known to differ: `messages` for `errors`,
 * the flipped local/peer reading, statuses in any case or unknown to us, CIDR addresses, a bare location id,
 * missing defaults. Unknown fields are dropped, never an error.
 */

/** A status from the vocabulary, or the remote's own word kept as it came. */
export type RemoteStatus = SessionStatus | (string & { readonly unknownStatus?: never });

/** Statuses are read case-insensitively; a word outside the vocabulary is kept verbatim. */
export function readStatus(raw: string): RemoteStatus {
  const lower = raw.trim().toLowerCase();
  return isSessionStatus(lower) ? lower : raw;
}

/** Statuses after which nothing more will happen without a new request. */
export function isFinalStatus(status: RemoteStatus): boolean {
  return status === 'established' || status === 'rejected' || status === 'unestablished';
}

const LenientIpSchema = z.string().transform(canonicalAddress);

const LenientLocationSchema = z
  .union([z.string().min(1), z.object({ id: z.string().min(1), type: z.string().optional() })])
  .transform((value): Location => {
    const id = typeof value === 'string' ? value : value.id;
    const type = typeof value === 'string' ? undefined : value.type?.toLowerCase();
    return { id, type: type === 'public' || type === 'private' ? type : locationKind(id) };
  });

const LenientRoleSchema = BgpRoleSchema.optional().catch(undefined);

/** Our server's session schema with the known differences of other implementations allowed. */
export const RemoteSessionSchema = SessionSchema.extend({
  session_id: z.union([z.string().min(1), z.number().transform(String)]),
  local_ip: LenientIpSchema,
  peer_ip: LenientIpSchema,
  local_bgp_role: LenientRoleSchema,
  peer_bgp_role: LenientRoleSchema,
  local_insert_asn: z.boolean().optional(),
  peer_insert_asn: z.boolean().optional(),
  local_monitoring_session: z.boolean().optional(),
  peer_monitoring_session: z.boolean().optional(),
  peer_type: z
    .string()
    .optional()
    .transform((t) => (t?.toLowerCase() === 'private' ? ('private' as const) : undefined)),
  location: LenientLocationSchema,
  status: z.string().transform(readStatus),
});

/** A session read from a remote API, in OUR reading: `local*` is this network, `peer*` the remote one. */
export interface RemoteSession extends Omit<SessionTerms, 'sessionSecret' | 'sessionSecretRef'> {
  sessionId: string;
  status: RemoteStatus;
  /** The remote answered with `local_*` naming us (the DATA TYPES reading), not the REQUEST/MONITORING one. */
  flipped: boolean;
}

/**
 * Turns a wire session into our reading. Which side is ours is decided by the ASN, not by the field name:
 * `ourAsns` are the networks this call speaks for. When neither or both ASNs are ours the draft's REQUEST
 * reading is assumed (`local_*` = the remote server).
 */
export function toOurReading(
  wire: z.output<typeof RemoteSessionSchema>,
  ourAsns: ReadonlySet<number>,
): RemoteSession {
  const flipped = ourAsns.has(wire.local_asn) && !ourAsns.has(wire.peer_asn);
  const {
    sessionSecret: _secret,
    sessionSecretRef: _ref,
    ...terms
  } = termsFromWire(wire, flipped ? 'local' : 'peer');
  return { ...terms, sessionId: wire.session_id, status: wire.status, flipped };
}

const Messages = z
  .union([z.string(), z.array(z.unknown())])
  .transform((v) => (Array.isArray(v) ? v.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))) : [v]));

const RemoteFieldErrorSchema = z.union([
  z.string().transform((message) => ({ name: 'request', errors: [message], code: undefined })),
  z
    .object({
      name: z.string().optional(),
      field: z.string().optional(),
      errors: Messages.optional(),
      messages: Messages.optional(),
      message: z.string().optional(),
      detail: z.string().optional(),
      code: z.union([z.string(), z.number().transform(String)]).optional(),
    })
    .transform((e) => ({
      name: e.name ?? e.field ?? 'request',
      errors: e.errors ?? e.messages ?? [e.message ?? e.detail ?? 'no message given'],
      code: e.code,
    })),
]);

/** The error list of an answer: `errors` or `messages`, of objects or plain strings. */
export const RemoteErrorListSchema = z
  .object({
    errors: z.array(RemoteFieldErrorSchema).optional().catch(undefined),
    messages: z.array(RemoteFieldErrorSchema).optional().catch(undefined),
    message: z.string().optional().catch(undefined),
    error: z.string().optional().catch(undefined),
  })
  .transform((body) => body.errors ?? body.messages ?? ([] as z.output<typeof RemoteFieldErrorSchema>[]));

/**
 * The error items of any body (an error answer or the `errors` of a 200), with field names also given in
 * our reading. The wire `local_*` is the remote server, i.e. our `peer_*`, unless the remote answered flipped.
 */
export function readRemoteErrors(body: unknown, flipped = false): RemoteFieldError[] {
  if (typeof body !== 'object' || body === null) return [];
  const parsed = RemoteErrorListSchema.safeParse(body);
  if (!parsed.success) return [];
  const items = parsed.data;
  if (items.length === 0) {
    const single = body as { message?: unknown; error?: unknown };
    const text = typeof single.message === 'string' ? single.message : single.error;
    if (typeof text === 'string') return [{ name: 'request', field: 'request', errors: [text] }];
  }
  return items.map((e) => ({
    name: e.name,
    field: flipped ? e.name : swapFieldName(e.name),
    errors: e.errors,
    code: e.code,
  }));
}

/** `POST /sessions` answer: the server's request id, accepted sessions, per-session errors. */
export const RemoteRequestAnswerSchema = SessionArrayResponseSchema.extend({
  request_id: z.union([z.string().min(1), z.number().transform(String)]).optional(),
  sessions: z.array(z.unknown()).default([]),
  errors: z.unknown().optional(),
  messages: z.unknown().optional(),
});

/** `GET /sessions` page: a bare array (older servers) is read as one last page. */
export const RemoteSessionPageSchema = z.union([
  SessionListSchema.extend({
    sessions: z.array(z.unknown()),
    next_token: z.string().min(1).nullish().catch(undefined),
  }),
  z.array(z.unknown()).transform((sessions) => ({ sessions, next_token: undefined })),
]);

/** `DELETE /sessions` answer. */
export const RemoteBatchDeleteSchema = BatchDeleteResponseSchema.extend({
  sessions: z.array(z.unknown()).default([]),
  errors: z.unknown().optional(),
  messages: z.unknown().optional(),
});

/** One location of `GET /locations`, in the receiving server's terms (`local_ips` = the server's addresses). */
export const RemoteLocationSchema = LocationListingSchema.extend({
  id: z.string().min(1),
  type: z
    .string()
    .optional()
    .transform((t) => t?.toLowerCase()),
  asn: z.number().int().optional(),
  name: z.string().nullish(),
  local_ips: z.array(LenientIpSchema).nullish(),
}).transform((l) => ({
  id: l.id,
  type: l.type === 'public' || l.type === 'private' ? l.type : locationKind(l.id),
  asn: l.asn,
  name: l.name ?? undefined,
  localIps: l.local_ips ?? undefined,
}));
export type RemoteLocation = z.output<typeof RemoteLocationSchema>;

export const RemoteLocationPageSchema = z.union([
  LocationListSchema.extend({
    locations: z.array(z.unknown()),
    next_token: z.string().min(1).nullish().catch(undefined),
  }),
  z.array(z.unknown()).transform((locations) => ({ locations, next_token: undefined })),
]);
