import { z } from 'zod';
import { parseIpAddress, type AddressFamily } from './ip.js';
import {
  LocationInputSchema,
  LocationSchema,
  PeeringTypeSchema,
  type Location,
  type PeeringType,
} from './location.js';

/** A 32-bit autonomous system number (0 and 4294967295+ are reserved or impossible). */
export const AsnSchema = z.number().int().min(1).max(4294967295).meta({ example: 64500 });

/**
 * RFC 9234 BGP roles: 0 Provider, 1 Route Server, 2 Route Server Client, 3 Customer, 4 Peer.
 */
export const BgpRoleSchema = z
  .union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4)])
  .meta({ description: 'RFC 9234 role: 0 Provider, 1 RS, 2 RS-Client, 3 Customer, 4 Peer' });
export type BgpRole = z.infer<typeof BgpRoleSchema>;

export const BGP_ROLE_NAMES: Record<BgpRole, string> = {
  0: 'provider',
  1: 'rs_server',
  2: 'rs_client',
  3: 'customer',
  4: 'peer',
};

const CORRECT_ROLE_PAIRS = new Set(['0/3', '3/0', '1/2', '2/1', '4/4']);

/** RFC 9234 §4.2 role correctness of one side against the other. */
export function rolesAreCorrect(local: BgpRole, peer: BgpRole): boolean {
  return CORRECT_ROLE_PAIRS.has(`${local}/${peer}`);
}

/** Status vocabulary (PROTOCOL.md §5), lower case on the wire. */
export const SESSION_STATUSES = [
  'pending',
  'approved',
  'rejected',
  'configured',
  'established',
  'down',
  'unestablished',
] as const;
export const SessionStatusSchema = z.enum(SESSION_STATUSES).meta({
  description:
    'pending: awaiting policy or a person; approved: accepted, will be configured; rejected; configured: configured, ' +
    'waiting for BGP; established; down: was established, is not now; unestablished: not established within the ' +
    'time window and removed',
});
export type SessionStatus = z.infer<typeof SessionStatusSchema>;

/** An address as the wire carries it; CIDR input is reduced to the address. */
export const IpInputSchema = z
  .string()
  .max(64)
  .transform((value, ctx) => {
    const parsed = parseIpAddress(value);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed.address;
  })
  .meta({
    description: 'An IPv4 or IPv6 address; the CIDR form 192.0.2.1/24 is accepted',
    example: '192.0.2.1',
  });

const SecretSchema = z.string().min(1).max(80);

/**
 * One BGP session as a client sends it (the draft's BGP Session structure, read the REQUEST/MONITORING way:
 * `local_*` is the receiving server, `peer_*` the initiator). Unknown fields are dropped, not echoed.
 */
export const SessionInputSchema = z
  .object({
    local_asn: AsnSchema,
    local_ip: IpInputSchema,
    peer_asn: AsnSchema,
    peer_ip: IpInputSchema,
    local_bgp_role: BgpRoleSchema.optional(),
    peer_bgp_role: BgpRoleSchema.optional(),
    local_insert_asn: z.boolean().optional(),
    peer_insert_asn: z.boolean().optional(),
    local_monitoring_session: z.boolean().optional(),
    peer_monitoring_session: z.boolean().optional(),
    peer_type: PeeringTypeSchema.optional(),
    session_secret: SecretSchema.optional().meta({
      description: 'MD5/TCP-AO secret; write-only, never returned',
    }),
    md5: SecretSchema.optional().meta({ description: 'Alias of session_secret', deprecated: true }),
    location: LocationInputSchema,
  })
  .meta({ title: 'SessionInput' });
export type SessionInput = z.output<typeof SessionInputSchema>;

/** A session as the server answers it: `session_secret` is never part of it. */
export const SessionSchema = z
  .object({
    session_id: z.uuid(),
    local_asn: AsnSchema,
    local_ip: z.string(),
    peer_asn: AsnSchema,
    peer_ip: z.string(),
    local_bgp_role: BgpRoleSchema.optional(),
    peer_bgp_role: BgpRoleSchema.optional(),
    local_insert_asn: z.boolean(),
    peer_insert_asn: z.boolean(),
    local_monitoring_session: z.boolean(),
    peer_monitoring_session: z.boolean(),
    peer_type: PeeringTypeSchema,
    location: LocationSchema,
    status: SessionStatusSchema,
  })
  .meta({ title: 'Session' });
export type WireSession = z.infer<typeof SessionSchema>;

/**
 * A session in this network's own reading: `local` is always us, `peer` the other network, whichever side
 * initiated. The wire reading is applied only at the API boundary.
 */
export interface SessionTerms {
  localAsn: number;
  localIp: string;
  peerAsn: number;
  peerIp: string;
  localBgpRole?: BgpRole | undefined;
  peerBgpRole?: BgpRole | undefined;
  localInsertAsn: boolean;
  peerInsertAsn: boolean;
  localMonitoringSession: boolean;
  peerMonitoringSession: boolean;
  peerType: PeeringType;
  location: Location;
  sessionSecret?: string | undefined;
}

export function addressFamily(ip: string): AddressFamily {
  return ip.includes(':') ? 'ipv6' : 'ipv4';
}

/**
 * The natural key of a session (PROTOCOL.md §4): the other network, the location and both addresses.
 * Two requests for the same key are the same session.
 */
export function naturalKey(terms: Pick<SessionTerms, 'peerAsn' | 'location' | 'localIp' | 'peerIp'>): string {
  return `${terms.peerAsn}|${terms.location.id}|${terms.localIp}|${terms.peerIp}`;
}

/** Swaps the two sides of a session, for the flipped wire reading and for the initiator's view. */
export function swapSides(terms: SessionTerms): SessionTerms {
  return {
    ...terms,
    localAsn: terms.peerAsn,
    localIp: terms.peerIp,
    peerAsn: terms.localAsn,
    peerIp: terms.localIp,
    localBgpRole: terms.peerBgpRole,
    peerBgpRole: terms.localBgpRole,
    localInsertAsn: terms.peerInsertAsn,
    peerInsertAsn: terms.localInsertAsn,
    localMonitoringSession: terms.peerMonitoringSession,
    peerMonitoringSession: terms.localMonitoringSession,
  };
}

/** Input as received → terms in the wire's own reading (local = receiver), defaults applied. */
export function termsFromInput(input: SessionInput): SessionTerms {
  return {
    localAsn: input.local_asn,
    localIp: input.local_ip,
    peerAsn: input.peer_asn,
    peerIp: input.peer_ip,
    localBgpRole: input.local_bgp_role,
    peerBgpRole: input.peer_bgp_role,
    localInsertAsn: input.local_insert_asn ?? true,
    peerInsertAsn: input.peer_insert_asn ?? true,
    localMonitoringSession: input.local_monitoring_session ?? false,
    peerMonitoringSession: input.peer_monitoring_session ?? false,
    peerType: input.peer_type ?? input.location.type,
    location: input.location,
    sessionSecret: input.session_secret ?? input.md5,
  };
}

/** Terms in the wire reading → the wire session (never with the secret). */
export function wireSession(terms: SessionTerms, sessionId: string, status: SessionStatus): WireSession {
  const session: WireSession = {
    session_id: sessionId,
    local_asn: terms.localAsn,
    local_ip: terms.localIp,
    peer_asn: terms.peerAsn,
    peer_ip: terms.peerIp,
    local_insert_asn: terms.localInsertAsn,
    peer_insert_asn: terms.peerInsertAsn,
    local_monitoring_session: terms.localMonitoringSession,
    peer_monitoring_session: terms.peerMonitoringSession,
    peer_type: terms.peerType,
    location: terms.location,
    status,
  };
  if (terms.localBgpRole !== undefined) session.local_bgp_role = terms.localBgpRole;
  if (terms.peerBgpRole !== undefined) session.peer_bgp_role = terms.peerBgpRole;
  return session;
}

/** A client-proposed request id: a UUID or another short opaque token. */
export const ClientRequestIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._~:-]+$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ ~ : -');

export const MAX_SESSIONS_PER_REQUEST = 100;
