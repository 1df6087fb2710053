import { z } from 'zod';
import { LocationIdSchema, PeeringTypeSchema, locationKind } from '../../domain/location.js';
import { AsnSchema, ClientRequestIdSchema, SessionStatusSchema } from '../../domain/session.js';
import { PEERING_REQUEST } from './api-group.js';
import { ConditionListSchema } from './conditions.js';
import { resourceConstructor, type Resource } from './object.js';
import { PeerApiCredentialsSchema, PeerApiUrlSchema } from './peer-api.js';
import { DirectionSchema } from './peering-session.js';
import { DISTINCT_ASNS, immutable, outboundNeedsPeerApi, withRules, type CrossFieldRule } from './rules.js';
import { IpAddressSchema, SESSION_RULES, celLocationKind, sessionOptionFields } from './session-fields.js';

export const MAX_SESSIONS_PER_RESOURCE = 100;

const RequestedSessionObject = z
  .object({
    location: LocationIdSchema.meta({ description: 'pdb:ix:<id> (public) or pdb:fac:<id> (private)' }),
    peerType: PeeringTypeSchema.optional().meta({
      description: 'public or private; follows from the location when absent',
    }),
    localIp: IpAddressSchema.meta({ description: 'Our address' }),
    peerIp: IpAddressSchema.meta({ description: "The peer's address" }),
    ...sessionOptionFields,
    sessionId: z.uuid().optional().meta({
      description: 'Inbound only, written by our API server: the session_id it answered with',
    }),
    initialState: z.enum(['pending', 'approved']).optional().meta({
      description: 'Inbound only, written by our API server: the status our policy gave the session',
    }),
    localAsn: AsnSchema.optional().meta({
      description:
        "Inbound only, written by our API server: our ASN in this session when it is not the request's " +
        '(one request may ask for sessions with several of our ASNs)',
    }),
    peerAsn: AsnSchema.optional().meta({
      description:
        "Inbound only, written by our API server: the requester's ASN in this session when it is not the " +
        "request's (a caller holding several ASNs may ask for all of them at once)",
    }),
  })
  .strict();
type RequestedSessionShape = z.output<typeof RequestedSessionObject>;

export const REQUESTED_SESSION_RULES: CrossFieldRule<RequestedSessionShape>[] = [
  ...SESSION_RULES,
  {
    rule: `!has(self.peerType) || self.peerType == ${celLocationKind('self.location')}`,
    message: 'peerType must be public for pdb:ix:* locations and private for pdb:fac:* ones',
    fieldPath: '.peerType',
    holds: (s) => s.peerType === undefined || s.peerType === locationKind(s.location),
  },
];

/** One session asked for explicitly (in our reading: local = us). */
export const RequestedSessionSchema = withRules(RequestedSessionObject, REQUESTED_SESSION_RULES).meta({
  description: 'A session to request, in our reading (local = this network)',
});
export type RequestedSession = z.output<typeof RequestedSessionSchema>;

/** A rejection the peer (outbound) or our policy (inbound) gave, with the reason in both forms. */
export const SessionRejectionSchema = z.object({
  /** The refused session; inbound rejections of input that did not even parse have none. */
  location: z.string().max(64).optional(),
  localIp: z.string().max(64).optional(),
  peerIp: z.string().max(64).optional(),
  /** The field the rejection names, e.g. `peer_ip` (wire reading of whoever judged it). */
  field: z.string().max(256).optional(),
  /** Stable code of the error catalog (or the peer's code, kept as given). */
  code: z.string().max(64),
  /** CamelCase reason, as a condition would carry it. */
  reason: z.string().max(64),
  message: z.string().max(2048),
  /** The spec generation it was judged for; a new generation is asked again. */
  generation: z.number().int().min(0).optional(),
});
export type SessionRejection = z.infer<typeof SessionRejectionSchema>;

const InboundRecordSchema = z
  .object({
    requestId: z.uuid().meta({ description: 'Our request_id' }),
    clientRequestId: ClientRequestIdSchema.optional().meta({
      description: 'The request_id the peer proposed, kept for idempotency',
    }),
    returnUrl: z.string().max(2048).optional(),
    requestedBy: z.string().max(512).meta({ description: 'Who asked (audit), never a token' }),
    receivedAt: z.string().max(64).meta({ format: 'date-time' }),
    rejections: z.array(SessionRejectionSchema).max(MAX_SESSIONS_PER_RESOURCE).default([]),
  })
  .strict()
  .meta({ description: 'Inbound only, written by our API server: the request as it arrived' });

const RequestSpecObject = z
  .object({
    direction: DirectionSchema.default('Outbound'),
    localAsn: AsnSchema.meta({ description: 'Our ASN' }),
    peerAsn: AsnSchema.meta({ description: "The peer's ASN" }),
    peerApiUrl: PeerApiUrlSchema.optional().meta({
      description: "Outbound: the peer's Peering API base URL, base path included",
    }),
    credentials: PeerApiCredentialsSchema.optional(),
    locations: z.array(LocationIdSchema).max(MAX_SESSIONS_PER_RESOURCE).optional().meta({
      description:
        'Outbound without sessions: peer at these locations (all locations both networks share when absent)',
    }),
    addressFamilies: z
      .array(z.enum(['ipv4', 'ipv6']))
      .min(1)
      .max(2)
      .default(['ipv4', 'ipv6'])
      .meta({ description: 'Outbound without sessions: the address families to peer over' }),
    sessions: z
      .array(RequestedSessionSchema)
      .max(MAX_SESSIONS_PER_RESOURCE)
      .optional()
      .meta({
        description: 'The sessions, explicitly; when absent they are discovered from both networks',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['location', 'localIp', 'peerIp'],
      }),
    sessionDefaults: z
      .object({
        localBgpRole: sessionOptionFields.localBgpRole,
        peerBgpRole: sessionOptionFields.peerBgpRole,
        sessionSecretRef: sessionOptionFields.sessionSecretRef,
      })
      .strict()
      .optional()
      .meta({ description: 'Options for discovered sessions' }),
    // No default: a defaulted field belongs to whoever created the object (our API server), and a person's
    // server-side apply of an approval would then conflict with it.
    approved: z.boolean().optional().meta({
      description: 'Inbound: set to true to approve sessions our policy left pending (absent: not approved)',
    }),
    suspend: z.boolean().optional().meta({
      description:
        'Outbound: while true nothing is sent to the peer (a counter-request under manual policy waits here)',
    }),
    inbound: InboundRecordSchema.optional(),
  })
  .strict();
type RequestSpecShape = z.output<typeof RequestSpecObject>;

export const REQUEST_SPEC_RULES: CrossFieldRule<RequestSpecShape>[] = [
  DISTINCT_ASNS,
  outboundNeedsPeerApi('request'),
  {
    rule: "(self.direction == 'Inbound') == has(self.inbound)",
    message: 'inbound is written by our API server, on Inbound requests only',
    fieldPath: '.inbound',
    holds: (s) => (s.direction === 'Inbound') === (s.inbound !== undefined),
  },
  {
    rule:
      "self.direction == 'Inbound' || !has(self.sessions) || " +
      'self.sessions.all(s, !has(s.sessionId) && !has(s.initialState) && !has(s.localAsn) && !has(s.peerAsn))',
    message:
      'sessionId, initialState, localAsn and peerAsn of a session are written by our API server on Inbound ' +
      'requests only',
    fieldPath: '.sessions',
    holds: (s) =>
      s.direction === 'Inbound' ||
      (s.sessions ?? []).every(
        (x) =>
          x.sessionId === undefined &&
          x.initialState === undefined &&
          x.localAsn === undefined &&
          x.peerAsn === undefined,
      ),
  },
  {
    rule: '!has(self.sessions) || !has(self.locations)',
    message: 'give either sessions (explicit) or locations (discovered), not both',
    fieldPath: '.locations',
    holds: (s) => s.sessions === undefined || s.locations === undefined,
  },
  immutable('direction'),
  immutable('localAsn'),
  immutable('peerAsn'),
  immutable('inbound', 'optional'),
];

export const PeeringRequestSpecSchema = withRules(RequestSpecObject, REQUEST_SPEC_RULES).meta({
  description: 'Peer with one network: outbound (we ask) or inbound (they asked through our Peering API)',
});
export type PeeringRequestSpec = z.output<typeof PeeringRequestSpecSchema>;
export type PeeringRequestSpecInput = z.input<typeof PeeringRequestSpecSchema>;

/** The natural-key part of a session that a request talks about. */
export const SessionKeyRecordSchema = z.object({
  location: z.string().max(64),
  localIp: z.string().max(64),
  peerIp: z.string().max(64),
});
export type SessionKeyRecord = z.infer<typeof SessionKeyRecordSchema>;

/**
 * The crash-safe record of a `POST /sessions` about to be made: written (with a resourceVersion precondition)
 * before the call, cleared when its answer is recorded. Its id is sent as the client `request_id`.
 */
export const RequestIntentSchema = z.object({
  id: z.uuid(),
  generation: z.number().int().min(0),
  startedAt: z.string().max(64).meta({ format: 'date-time' }),
  sessions: z.array(SessionKeyRecordSchema).max(MAX_SESSIONS_PER_RESOURCE),
});
export type RequestIntent = z.infer<typeof RequestIntentSchema>;

export const AcceptedSessionSchema = z.object({
  /** The PeeringSession resource. */
  name: z.string().max(253),
  sessionId: z.uuid(),
  location: z.string().max(64),
  localIp: z.string().max(64),
  peerIp: z.string().max(64),
  state: SessionStatusSchema.optional(),
});
export type AcceptedSession = z.infer<typeof AcceptedSessionSchema>;

export const REQUEST_PHASES = [
  'Pending',
  'Requesting',
  'Requested',
  'Established',
  'PartiallyRejected',
  'Rejected',
  'PendingApproval',
  'Approved',
  'Expired',
  'Failed',
  'DePeered',
  'Deleting',
] as const;

export const PeeringRequestStatusSchema = z.object({
  phase: z.enum(REQUEST_PHASES).optional(),
  requestId: z
    .string()
    .max(128)
    .optional()
    .meta({ description: "The request_id: the peer's for Outbound requests, ours for Inbound ones" }),
  intent: RequestIntentSchema.optional(),
  accepted: z.array(AcceptedSessionSchema).max(1000).optional(),
  rejected: z.array(SessionRejectionSchema).max(1000).optional(),
  sessionCounts: z
    .object({
      accepted: z.number().int().min(0).meta({ description: 'Agreed sessions (approved or later)' }),
      pending: z.number().int().min(0).optional().meta({ description: 'Sessions waiting for approval' }),
      rejected: z.number().int().min(0),
      established: z.number().int().min(0),
    })
    .optional(),
  answeredGeneration: z.number().int().min(0).optional().meta({
    description: 'Outbound: the spec generation whose sessions the peer has answered in full',
  }),
  emptySince: z.string().max(64).optional().meta({
    format: 'date-time',
    description: 'Inbound: when the request was left without sessions; it is removed after a grace period',
  }),
  conditions: ConditionListSchema,
  observedGeneration: z.number().int().min(0).optional(),
});
export type PeeringRequestStatus = z.infer<typeof PeeringRequestStatusSchema>;

export type PeeringRequest = Resource<PeeringRequestSpec, PeeringRequestStatus>;

export const peeringRequest = resourceConstructor<PeeringRequest>(PEERING_REQUEST.kind);
