import { z } from 'zod';
import { parseIpAddress, type AddressFamily } from './ip.js';
import { locationKind, type Location, type PeeringType } from './location.js';

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

/** Status vocabulary (docs/api.md §5), lower case on the wire. */
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

const STATUS_WORDS: ReadonlySet<string> = new Set(SESSION_STATUSES);

/** True for a word of the status vocabulary (as our server writes it: lower case). */
export function isSessionStatus(word: string): word is SessionStatus {
  return STATUS_WORDS.has(word);
}

/**
 * Printable ASCII without `"` and `\`: the only characters every router configuration language (BIRD's, FRR's)
 * carries safely inside a quoted string.
 */
export const SAFE_TEXT = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

/** What a session secret may hold: SAFE_TEXT without the space. */
export const SECRET_TEXT = /^[\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * A session's MD5/TCP-AO secret: what the API accepts is what a router can be given, so a session is never
 * approved only to fail at the router (issue 14).
 */
export const SessionSecretSchema = z
  .string()
  .min(1)
  .max(80, 'must be at most 80 characters (the TCP MD5 key limit)')
  // No space either: FRR takes a password as one word (BIRD would quote it), and a secret must suit every router.
  .regex(SECRET_TEXT, 'must be printable ASCII without spaces, " or \\');

/** A key of a Kubernetes Secret (or any named secret store) holding a session's MD5/TCP-AO secret. */
export interface SecretKeyRef {
  name: string;
  key: string;
}

/**
 * One BGP session's terms, in this network's own reading: `local` is always us, `peer` the other network,
 * whichever side initiated. This is the one description of a session; the wire (`session-wire.ts`), the
 * PeeringSession spec and the router's desired session are mapped from and to it, each mapping written once.
 * Build it with {@link sessionTerms}, which applies the defaults and the canonical address forms.
 */
export interface SessionTerms {
  localAsn: number;
  localIp: string;
  peerAsn: number;
  peerIp: string;
  location: Location;
  peerType: PeeringType;
  localBgpRole?: BgpRole | undefined;
  peerBgpRole?: BgpRole | undefined;
  localInsertAsn: boolean;
  peerInsertAsn: boolean;
  localMonitoringSession: boolean;
  peerMonitoringSession: boolean;
  /** The secret itself: travels to the peer and to the router, is never stored in a resource or answered. */
  sessionSecret?: string | undefined;
  /** Where the secret is kept on our side (resources reference secrets, never hold them). */
  sessionSecretRef?: SecretKeyRef | undefined;
}

/** The options of the draft's BGP Session structure that have defaults. */
export type DefaultedOption =
  'localInsertAsn' | 'peerInsertAsn' | 'localMonitoringSession' | 'peerMonitoringSession';

/** The draft's defaults (insert-ASN on, no monitoring): stated here and nowhere else. */
export const SESSION_DEFAULTS: Readonly<Pick<SessionTerms, DefaultedOption>> = Object.freeze({
  localInsertAsn: true,
  peerInsertAsn: true,
  localMonitoringSession: false,
  peerMonitoringSession: false,
});

/**
 * Terms as they may be written: options may be left out (defaults apply), the location may be a bare id
 * (`pdb:ix:26`) and `peerType` follows from the location when absent. A PeeringSession spec is one, too.
 */
export type SessionTermsInput = Omit<SessionTerms, DefaultedOption | 'location' | 'peerType'> &
  Partial<Pick<SessionTerms, DefaultedOption>> & {
    location: Location | string;
    peerType?: PeeringType | undefined;
  };

/**
 * Complete terms from what was written: defaults applied, addresses in canonical form, the location's type
 * from its id when only an id was given. Extra fields of the input (a resource spec's `direction`, …) are left
 * behind. Nothing is validated here: that happens at the boundary the input came through.
 *
 * @example
 * sessionTerms({ localAsn: 64500, localIp: '2001:DB8::1', peerAsn: 64501, peerIp: '2001:db8::2', location: 'pdb:ix:26' });
 * // { …, localIp: '2001:db8::1', location: { id: 'pdb:ix:26', type: 'public' }, peerType: 'public', localInsertAsn: true, … }
 */
export function sessionTerms(input: SessionTermsInput): SessionTerms {
  const location: Location =
    typeof input.location === 'string'
      ? { id: input.location, type: locationKind(input.location) }
      : { id: input.location.id, type: input.location.type };
  return {
    localAsn: input.localAsn,
    localIp: canonicalAddress(input.localIp),
    peerAsn: input.peerAsn,
    peerIp: canonicalAddress(input.peerIp),
    location,
    peerType: input.peerType ?? location.type,
    localBgpRole: input.localBgpRole,
    peerBgpRole: input.peerBgpRole,
    localInsertAsn: input.localInsertAsn ?? SESSION_DEFAULTS.localInsertAsn,
    peerInsertAsn: input.peerInsertAsn ?? SESSION_DEFAULTS.peerInsertAsn,
    localMonitoringSession: input.localMonitoringSession ?? SESSION_DEFAULTS.localMonitoringSession,
    peerMonitoringSession: input.peerMonitoringSession ?? SESSION_DEFAULTS.peerMonitoringSession,
    sessionSecret: input.sessionSecret,
    sessionSecretRef: input.sessionSecretRef,
  };
}

/** The canonical text of an address (RFC 5952 for IPv6); text that is no address is kept for the validator. */
export function canonicalAddress(address: string): string {
  const parsed = parseIpAddress(address);
  return typeof parsed === 'string' ? address : parsed.address;
}

export function addressFamily(ip: string): AddressFamily {
  return ip.includes(':') ? 'ipv6' : 'ipv4';
}

/** The terms two requests for one natural key may disagree on: everything but the key and the secret. */
const AGREED_TERMS = [
  'localAsn',
  'peerType',
  'localBgpRole',
  'peerBgpRole',
  'localInsertAsn',
  'peerInsertAsn',
  'localMonitoringSession',
  'peerMonitoringSession',
] as const satisfies readonly (keyof SessionTerms)[];

/**
 * Where `asked` differs from the terms a session `has` (of the same natural key): the fields, in our reading.
 *
 * @example
 * termsDifferences(existing.terms, requested); // ['localBgpRole', 'peerBgpRole'] when only the roles differ
 */
export function termsDifferences(has: SessionTerms, asked: SessionTerms): (keyof SessionTerms)[] {
  return AGREED_TERMS.filter((field) => has[field] !== asked[field]);
}

/** What identifies a session: the other network, the location and both addresses. */
export interface SessionKey {
  peerAsn: number;
  location: { id: string } | string;
  localIp: string;
  peerIp: string;
}

/**
 * The natural key of a session (docs/api.md, "Decisions"): the other network, the location and both addresses,
 * canonical. Two requests for the same key are the same session; the router names the session after it and
 * the PeeringSession's name derives from it. Our own ASN is not part of it: one address pair at one location
 * is one session, whichever of our ASNs speaks on it.
 *
 * @example
 * naturalKey({ peerAsn: 64501, location: 'pdb:ix:26', localIp: '192.0.2.1', peerIp: '192.0.2.2' });
 * // '64501|pdb:ix:26|192.0.2.1|192.0.2.2'
 */
export function naturalKey(key: SessionKey): string {
  const location = typeof key.location === 'string' ? key.location : key.location.id;
  return `${key.peerAsn}|${location}|${canonicalAddress(key.localIp)}|${canonicalAddress(key.peerIp)}`;
}

/** A client-proposed request id: a UUID or another short opaque token. */
export const ClientRequestIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._~:-]+$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ ~ : -');

export const MAX_SESSIONS_PER_REQUEST = 100;

/** A session id is a UUID (any version), read case-insensitively (RFC 9562 §4). */
export const SESSION_ID_PATTERN =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
