import type { ErrorCode } from '../domain/errors.js';
import { prefixContains, unusableEndpoint, type IpAddress } from '../domain/ip.js';
import type { Location } from '../domain/location.js';
import { addressFamily, type SessionStatus, type SessionTerms } from '../domain/session.js';
import { ruleBreaches, wireFieldName } from '../domain/session-rules.js';

/** What the receiving network accepts, from its configuration. */
export interface ReceiverPolicy {
  ourAsns: readonly number[];
  /** `auto`: approve when every check passes; `manual`: leave `pending` for a person. */
  approval: 'auto' | 'manual';
  /** When set, only these ASNs may request sessions. */
  allowAsns?: readonly number[] | undefined;
  denyAsns: readonly number[];
  maxPendingSessionsPerPeer: number;
  maxSessionsPerRequest: number;
  /** Accept loopback addresses as endpoints: only for a lab whose exchange is on the loopback interface. */
  allowLoopbackEndpoints?: boolean | undefined;
}

/** What PeeringDB says about one location, for one of our ASNs and one peer ASN. */
export interface LocationFacts {
  location: Location;
  /** The location exists in PeeringDB. */
  known: boolean;
  name?: string | undefined;
  /** Our operational addresses there (public) or any presence (private). */
  ourPresent: boolean;
  ourAddresses: ReadonlySet<string>;
  peerPresent: boolean;
  peerAddresses: ReadonlySet<string>;
  /** The IX LAN prefixes (public only). */
  prefixes: readonly string[];
}

/** One reason a session is refused, on a field in our reading (`local_*` = us). */
export interface Rejection {
  field: string;
  code: ErrorCode;
  message: string;
}

export type Verdict =
  { accepted: true; status: SessionStatus } | { accepted: false; rejections: Rejection[] };

/**
 * Decides one requested session, given what PeeringDB says about its location. Pure: the same inputs always
 * give the same verdict, and every rejection says why in a peering coordinator's words.
 */
export function judgeSession(terms: SessionTerms, facts: LocationFacts, policy: ReceiverPolicy): Verdict {
  const unusable = checkEndpoints(terms, policy);
  // An address that can never be an endpoint makes the PeeringDB checks of that address meaningless noise.
  const rejections = [
    ...checkShape(terms),
    ...checkPeer(terms, policy),
    ...(unusable.length > 0 ? unusable : checkLocation(terms, facts)),
  ];
  if (rejections.length > 0) return { accepted: false, rejections };
  // Private peering needs a cross-connect ordered by people, so it is never approved automatically.
  const automatic = policy.approval === 'auto' && terms.peerType === 'public';
  return { accepted: true, status: automatic ? 'approved' : 'pending' };
}

function checkShape(terms: SessionTerms): Rejection[] {
  const out: Rejection[] = ruleBreaches(terms).map((b) => ({
    field: wireFieldName(b.field),
    code: b.code,
    message: b.message,
  }));
  if (terms.peerType !== terms.location.type) {
    out.push({
      field: 'peer_type',
      code: 'LOCATION_TYPE_MISMATCH',
      message: `peer_type ${terms.peerType} does not match the ${terms.location.type} location ${terms.location.id}`,
    });
  }
  return out;
}

/** Both addresses can be BGP endpoints and differ, whatever the location type (PeeringDB vouches for neither at a facility). */
function checkEndpoints(terms: SessionTerms, policy: ReceiverPolicy): Rejection[] {
  const out: Rejection[] = [];
  for (const [field, ip] of [
    ['local_ip', terms.localIp],
    ['peer_ip', terms.peerIp],
  ] as const) {
    const reason = unusableEndpoint(
      { address: ip, family: addressFamily(ip) },
      policy.allowLoopbackEndpoints,
    );
    if (reason !== undefined) out.push({ field, code: 'UNUSABLE_ADDRESS', message: reason });
  }
  if (terms.localIp === terms.peerIp) {
    out.push({
      field: 'peer_ip',
      code: 'UNUSABLE_ADDRESS',
      message: `local_ip and peer_ip are both ${terms.peerIp}; a session needs two ends`,
    });
  }
  return out;
}

function checkPeer(terms: SessionTerms, policy: ReceiverPolicy): Rejection[] {
  const allowed = policy.allowAsns === undefined || policy.allowAsns.includes(terms.peerAsn);
  if (allowed && !policy.denyAsns.includes(terms.peerAsn)) return [];
  return [
    {
      field: 'peer_asn',
      code: 'PEER_NOT_ALLOWED',
      message: `AS${terms.peerAsn} is not accepted by our peering policy; contact our peering coordinators`,
    },
  ];
}

function checkLocation(terms: SessionTerms, facts: LocationFacts): Rejection[] {
  const where = facts.name ? `${facts.name} (${facts.location.id})` : facts.location.id;
  if (!facts.known) {
    return [
      {
        field: 'location',
        code: 'LOCATION_UNKNOWN',
        message: `${facts.location.id} does not exist in PeeringDB`,
      },
    ];
  }
  if (!facts.ourPresent) {
    return [
      {
        field: 'location',
        code: 'LOCATION_NOT_SHARED',
        message: `AS${terms.localAsn} is not present at ${where}`,
      },
    ];
  }
  if (facts.location.type === 'private') {
    if (facts.peerPresent) return [];
    return [
      {
        field: 'location',
        code: 'LOCATION_NOT_SHARED',
        message: `AS${terms.peerAsn} is not listed at facility ${where} in PeeringDB`,
      },
    ];
  }
  const out: Rejection[] = [];
  if (!facts.ourAddresses.has(terms.localIp)) {
    out.push({
      field: 'local_ip',
      code: 'LOCAL_IP_NOT_OURS',
      message: `${terms.localIp} is not an address of AS${terms.localAsn} at ${where}; ours there: ${list(facts.ourAddresses)}`,
    });
  }
  if (!facts.peerAddresses.has(terms.peerIp)) {
    out.push({
      field: 'peer_ip',
      code: 'PEER_IP_NOT_REGISTERED',
      message: facts.peerPresent
        ? `${terms.peerIp} is not registered to AS${terms.peerAsn} at ${where} in PeeringDB; its addresses there: ${list(facts.peerAddresses)}`
        : `AS${terms.peerAsn} has no operational port at ${where} in PeeringDB`,
    });
  }
  for (const [field, ip] of [
    ['local_ip', terms.localIp],
    ['peer_ip', terms.peerIp],
  ] as const) {
    const address: IpAddress = { address: ip, family: addressFamily(ip) };
    const ofFamily = facts.prefixes.filter((p) => p.includes(':') === (address.family === 'ipv6'));
    if (ofFamily.length > 0 && !ofFamily.some((prefix) => prefixContains(prefix, address))) {
      out.push({
        field,
        code: 'PEER_IP_OUTSIDE_PREFIX',
        message: `${ip} is outside the peering LAN of ${where} (${ofFamily.join(', ')})`,
      });
    }
  }
  return out;
}

/**
 * The pending limit: a peer with `pending` sessions awaiting approval already may not add one more once it is at
 * `maxPendingSessionsPerPeer`, so that one network cannot fill a person's queue.
 */
export function pendingLimitRejection(
  peerAsn: number,
  pending: number,
  policy: ReceiverPolicy,
): Rejection | undefined {
  if (pending < policy.maxPendingSessionsPerPeer) return undefined;
  return {
    field: 'peer_asn',
    code: 'PENDING_LIMIT',
    message: `AS${peerAsn} already has ${pending} sessions awaiting approval (limit ${policy.maxPendingSessionsPerPeer})`,
  };
}

function list(addresses: ReadonlySet<string>): string {
  return addresses.size === 0 ? 'none' : [...addresses].join(', ');
}
