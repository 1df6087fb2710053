import { z } from 'zod';
import { LocationSchema, PeeringTypeSchema, locationKind } from '../../domain/location.js';
import { BGP_STATES } from '../../router/driver.js';
import { AsnSchema, SessionStatusSchema, type SessionTerms } from '../../domain/session.js';
import { PEERING_SESSION } from './api-group.js';
import { ConditionListSchema } from './conditions.js';
import { resourceConstructor, type Resource } from './object.js';
import { PeerApiCredentialsSchema, PeerApiUrlSchema } from './peer-api.js';
import { DISTINCT_ASNS, immutable, outboundNeedsPeerApi, withRules, type CrossFieldRule } from './rules.js';
import { IpAddressSchema, SESSION_RULES, celLocationKind, sessionOptionFields } from './session-fields.js';

export const DirectionSchema = z.enum(['Outbound', 'Inbound']).meta({
  description: 'Outbound: this network asked the peer; Inbound: the peer asked us through our Peering API',
});
export type Direction = z.infer<typeof DirectionSchema>;

const SessionSpecObject = z
  .object({
    direction: DirectionSchema,
    sessionId: z.uuid().meta({
      description: "The session_id: the peer's for Outbound sessions, ours for Inbound ones",
    }),
    requestId: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .meta({ description: 'The request_id under which the session was requested' }),
    localAsn: AsnSchema.meta({ description: 'Our ASN' }),
    localIp: IpAddressSchema.meta({ description: 'Our address on the session' }),
    peerAsn: AsnSchema.meta({ description: "The peer's ASN" }),
    peerIp: IpAddressSchema.meta({ description: "The peer's address on the session" }),
    ...sessionOptionFields,
    peerType: PeeringTypeSchema,
    location: LocationSchema,
    peerApiUrl: PeerApiUrlSchema.optional().meta({
      description: "Outbound: the peer's Peering API (status polling and DELETE go there)",
    }),
    credentials: PeerApiCredentialsSchema.optional().meta({
      description: "Outbound: how to authenticate to the peer's Peering API",
    }),
  })
  .strict();

type SessionSpecShape = z.output<typeof SessionSpecObject>;

/** Cross-field rules of a PeeringSession spec, as CEL in the CRD and as checks in the operator. */
export const SESSION_SPEC_RULES: CrossFieldRule<SessionSpecShape>[] = [
  ...SESSION_RULES,
  {
    rule: `self.location.type == ${celLocationKind('self.location.id')}`,
    message: 'location.type must be public for pdb:ix:* and private for pdb:fac:*',
    fieldPath: '.location.type',
    holds: (s) => s.location.type === locationKind(s.location.id),
  },
  {
    rule: 'self.peerType == self.location.type',
    message: 'peerType must equal location.type',
    fieldPath: '.peerType',
    holds: (s) => s.peerType === s.location.type,
  },
  DISTINCT_ASNS,
  outboundNeedsPeerApi('session'),
  immutable('direction'),
  immutable('sessionId'),
  immutable('localAsn'),
  immutable('localIp'),
  immutable('peerAsn'),
  immutable('peerIp'),
  immutable('location'),
];

/** PeeringSession spec: everything of the draft's BGP Session structure, in our reading, plus how to reach the peer. */
export const PeeringSessionSpecSchema = withRules(SessionSpecObject, SESSION_SPEC_RULES).meta({
  description: "One BGP session, in this network's reading (local = us)",
});
export type PeeringSessionSpec = z.output<typeof PeeringSessionSpecSchema>;

/** BGP states in the router driver's words (RFC 4271 states, plus `down` and `unknown`). */
export const BgpStateSchema = z.enum(BGP_STATES).meta({ description: 'State of the session on our router' });
export type BgpState = z.infer<typeof BgpStateSchema>;

export const BgpObservationSchema = z
  .object({
    state: BgpStateSchema,
    since: z.string().max(64).optional().meta({ format: 'date-time', description: 'When the state began' }),
    prefixesReceived: z.number().int().min(0).optional(),
    prefixesSent: z.number().int().min(0).optional(),
    lastError: z.string().max(1024).optional(),
  })
  .meta({ description: "The router's view of the session" });
export type BgpObservation = z.infer<typeof BgpObservationSchema>;

/** The operator's decision: which Router the session goes on (its local address decides), and its limits. */
export const RouterAssignmentSchema = z
  .object({
    name: z.string().min(1).max(253).meta({ description: 'The Router (same namespace)' }),
    maxPrefixes: z
      .number()
      .int()
      .min(1)
      .max(4294967295)
      .optional()
      .meta({ description: "The peer's max-prefix limit (PeeringDB), applied by the router agent" }),
  })
  .meta({ description: 'The Router this session is assigned to, written by the operator' });
export type RouterAssignment = z.infer<typeof RouterAssignmentSchema>;

/** The router agent's report on the session: what it did with it and what BGP says. */
export const RouterReportSchema = z
  .object({
    router: z.string().min(1).max(253),
    /** The session's metadata.generation the agent applied. */
    observedGeneration: z.number().int().min(0),
    configured: z.boolean(),
    reason: z.string().max(1024).optional(),
    message: z.string().max(4096).optional(),
    bgp: BgpObservationSchema.optional(),
    observedTime: z.string().max(64).meta({ format: 'date-time' }),
  })
  .meta({ description: "The router agent's report, written by the agent of status.router.name" });
export type RouterReport = z.infer<typeof RouterReportSchema>;

export const PeeringSessionStatusSchema = z
  .object({
    state: SessionStatusSchema.optional().meta({
      description:
        "The draft's session status: the peer's answer for Outbound sessions, ours (as our API serves it) for Inbound",
    }),
    stateReason: z.string().max(1024).optional(),
    /** When the session was accepted: the time window counts from here. */
    acceptedAt: z.string().max(64).optional().meta({ format: 'date-time' }),
    lastSyncTime: z
      .string()
      .max(64)
      .optional()
      .meta({ format: 'date-time', description: 'Last successful exchange with the peer' }),
    /** Consecutive failed polls of the peer (the polling back-off grows with it). */
    syncFailures: z.number().int().min(0).optional(),
    bgp: BgpObservationSchema.optional(),
    router: RouterAssignmentSchema.optional(),
    routerReport: RouterReportSchema.optional(),
    conditions: ConditionListSchema,
    observedGeneration: z.number().int().min(0).optional(),
  })
  .meta({ description: 'What the operator observed' });
export type PeeringSessionStatus = z.infer<typeof PeeringSessionStatusSchema>;

export type PeeringSession = Resource<PeeringSessionSpec, PeeringSessionStatus>;

/** Condition types of a PeeringSession. */
export const SESSION_CONDITIONS = ['Accepted', 'Configured', 'Established', 'Ready', 'Synced'] as const;

/** What a PeeringSession spec says beyond the session's terms: direction, ids, how to reach the peer. */
export type SessionSpecExtra = Omit<PeeringSessionSpec, keyof SessionTerms>;

/**
 * Terms → a PeeringSession spec (same reading: local = us). The spec holds the terms' fields under their own
 * names, so the way back is the domain's {@link sessionTerms} applied to the spec. The secret itself never goes
 * into a resource: only its reference does.
 */
export function sessionSpec(terms: SessionTerms, extra: SessionSpecExtra): PeeringSessionSpec {
  const { sessionSecret: _secret, ...fields } = terms;
  return { ...extra, ...fields };
}

/** An empty PeeringSession object of a name, for building one. */
export const peeringSession = resourceConstructor<PeeringSession>(PEERING_SESSION.kind);
