import { z } from 'zod';
import { parseIpAddress } from './ip.js';
import { LocationInputSchema, LocationSchema, PeeringTypeSchema, type Location } from './location.js';
import {
  AsnSchema,
  BgpRoleSchema,
  SessionSecretSchema,
  SessionStatusSchema,
  sessionTerms,
  type BgpRole,
  type SessionStatus,
  type SessionTerms,
  type SessionTermsInput,
} from './session.js';

/**
 * The draft's BGP Session structure on the wire, and the one mapping between it and {@link SessionTerms}.
 *
 * The wire names the two sides `local_*` and `peer_*`, and implementations disagree on which is which: the
 * draft's REQUEST/MONITORING reading has `local_*` = the receiving server, its DATA TYPES reading the
 * initiator. Which wire side is this network is therefore always said explicitly ({@link OurSide}), and the
 * swap of sides, for values and for field names, is written here only.
 */

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
    session_secret: SessionSecretSchema.optional().meta({
      description: 'MD5/TCP-AO secret; write-only, never returned',
    }),
    md5: SessionSecretSchema.optional().meta({ description: 'Alias of session_secret', deprecated: true }),
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

/** The session fields of any wire form (input, answer, another implementation's answer), defaults not applied. */
export interface WireSessionFields {
  local_asn: number;
  local_ip: string;
  peer_asn: number;
  peer_ip: string;
  local_bgp_role?: BgpRole | undefined;
  peer_bgp_role?: BgpRole | undefined;
  local_insert_asn?: boolean | undefined;
  peer_insert_asn?: boolean | undefined;
  local_monitoring_session?: boolean | undefined;
  peer_monitoring_session?: boolean | undefined;
  peer_type?: 'public' | 'private' | undefined;
  location: Location | string;
  session_secret?: string | undefined;
  md5?: string | undefined;
}

/**
 * Which wire side names this network. The receiver of a REQUEST-reading request is `local`; an initiator
 * sending one is `peer`; an answer in the DATA TYPES reading puts the initiator on `local`.
 */
export type OurSide = 'local' | 'peer';

type Sided = Pick<
  SessionTerms,
  | 'localAsn'
  | 'peerAsn'
  | 'localIp'
  | 'peerIp'
  | 'localBgpRole'
  | 'peerBgpRole'
  | 'localInsertAsn'
  | 'peerInsertAsn'
  | 'localMonitoringSession'
  | 'peerMonitoringSession'
>;

/** Swaps the two sides of a session: the other network's reading of the same terms. */
export function swapSides<T extends Partial<Sided>>(terms: T): T {
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

/**
 * The same swap for a field name in an error: `sessions[0].local_ip` ⇄ `sessions[0].peer_ip` (also for
 * camelCase `localIp`). `peer_type` names no side and stays.
 */
export function swapFieldName(name: string): string {
  return name.replace(
    /(^|\.)(local|peer)(_|(?=[A-Z]))(?!type$|Type$)/,
    (_match, dot: string, side: string, sep: string) => `${dot}${side === 'local' ? 'peer' : 'local'}${sep}`,
  );
}

/**
 * Wire fields → terms in our reading, defaults applied.
 *
 * @example
 * // The receiver reads a request in the REQUEST reading: local_* is us.
 * const terms = termsFromWire(parsedInput, 'local');
 */
export function termsFromWire(wire: WireSessionFields, ourSide: OurSide): SessionTerms {
  const asWritten = sessionTerms({
    localAsn: wire.local_asn,
    localIp: wire.local_ip,
    peerAsn: wire.peer_asn,
    peerIp: wire.peer_ip,
    localBgpRole: wire.local_bgp_role,
    peerBgpRole: wire.peer_bgp_role,
    localInsertAsn: wire.local_insert_asn,
    peerInsertAsn: wire.peer_insert_asn,
    localMonitoringSession: wire.local_monitoring_session,
    peerMonitoringSession: wire.peer_monitoring_session,
    peerType: wire.peer_type,
    location: wire.location,
    sessionSecret: wire.session_secret ?? wire.md5,
  });
  return ourSide === 'local' ? asWritten : swapSides(asWritten);
}

/**
 * Terms (or terms as written, defaults left out) → the wire fields with this network on `ourSide`; options that
 * were left out stay out, so a request carries only what its author said. The secret is included: this is
 * what goes to the peer, never what an answer carries (see {@link wireSession}).
 */
export function wireFields(terms: SessionTermsInput, ourSide: OurSide): WireSessionFields {
  const t = ourSide === 'local' ? terms : swapSides(terms);
  return {
    local_asn: t.localAsn,
    local_ip: t.localIp,
    peer_asn: t.peerAsn,
    peer_ip: t.peerIp,
    local_bgp_role: t.localBgpRole,
    peer_bgp_role: t.peerBgpRole,
    local_insert_asn: t.localInsertAsn,
    peer_insert_asn: t.peerInsertAsn,
    local_monitoring_session: t.localMonitoringSession,
    peer_monitoring_session: t.peerMonitoringSession,
    peer_type: t.peerType,
    session_secret: t.sessionSecret,
    location: t.location,
  };
}

/**
 * Terms → the session as our server answers it, in the reading the caller used (never with the secret). The
 * status is ours, or (for a session read from another implementation) the word it used.
 */
export function wireSession<S extends string = SessionStatus>(
  terms: Omit<SessionTerms, 'sessionSecret' | 'sessionSecretRef'>,
  ourSide: OurSide,
  sessionId: string,
  status: S,
): Omit<WireSession, 'status'> & { status: S } {
  const t = ourSide === 'local' ? terms : swapSides(terms);
  const session: Omit<WireSession, 'status'> & { status: S } = {
    session_id: sessionId,
    local_asn: t.localAsn,
    local_ip: t.localIp,
    peer_asn: t.peerAsn,
    peer_ip: t.peerIp,
    local_insert_asn: t.localInsertAsn,
    peer_insert_asn: t.peerInsertAsn,
    local_monitoring_session: t.localMonitoringSession,
    peer_monitoring_session: t.peerMonitoringSession,
    peer_type: t.peerType,
    location: t.location,
    status,
  };
  if (t.localBgpRole !== undefined) session.local_bgp_role = t.localBgpRole;
  if (t.peerBgpRole !== undefined) session.peer_bgp_role = t.peerBgpRole;
  return session;
}
