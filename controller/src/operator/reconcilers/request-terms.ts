import { naturalKey, sessionTerms, type SessionTerms, type SessionTermsInput } from '../../domain/session.js';
import type { PeeringRequestSpec, RequestedSession, SessionKeyRecord } from '../resources/peering-request.js';

/*
 * A PeeringRequest's sessions as terms, and back: the one mapping between what a request's spec and status say
 * about a session and the domain's SessionTerms.
 */

/**
 * The natural key (the domain's, `naturalKey`) of a session a request's status talks about: the status keeps
 * location and addresses, the request names the peer.
 */
export function recordKey(peerAsn: number, record: Partial<SessionKeyRecord>): string {
  return naturalKey({
    peerAsn,
    location: record.location ?? '',
    localIp: record.localIp ?? '',
    peerIp: record.peerIp ?? '',
  });
}

/** Terms → the key record a request's status keeps for them. */
export function keyRecord(terms: SessionTerms): SessionKeyRecord {
  return { location: terms.location.id, localIp: terms.localIp, peerIp: terms.peerIp };
}

/** A session of a request as written in its spec (explicit), or as discovery found it (options from defaults). */
type WrittenSession = Omit<SessionTermsInput, 'localAsn' | 'peerAsn' | 'location'> & {
  location: string;
  localAsn?: number | undefined;
  peerAsn?: number | undefined;
};

/** The terms of one session of a request: the request's ASNs unless the session names its own (inbound). */
export function requestedTerms(
  spec: Pick<PeeringRequestSpec, 'localAsn' | 'peerAsn'>,
  session: WrittenSession,
): SessionTerms {
  return sessionTerms({
    ...session,
    localAsn: session.localAsn ?? spec.localAsn,
    peerAsn: session.peerAsn ?? spec.peerAsn,
  });
}

/**
 * Terms → a session entry of a request's spec, the way back of {@link requestedTerms}: the ASNs only where they
 * differ from the request's, the secret only by reference.
 */
export function requestedSession(
  terms: SessionTerms,
  spec: Pick<PeeringRequestSpec, 'localAsn' | 'peerAsn'>,
): RequestedSession {
  const { localAsn, peerAsn, location, sessionSecret: _secret, ...options } = terms;
  return {
    ...(localAsn === spec.localAsn ? {} : { localAsn }),
    ...(peerAsn === spec.peerAsn ? {} : { peerAsn }),
    location: location.id,
    ...options,
  };
}

/** The options a discovered session takes from the request (`spec.sessionDefaults`). */
export function discoveredSession(
  spec: Pick<PeeringRequestSpec, 'sessionDefaults'>,
  where: SessionKeyRecord,
): WrittenSession {
  const defaults = spec.sessionDefaults;
  return {
    ...where,
    localBgpRole: defaults?.localBgpRole,
    peerBgpRole: defaults?.peerBgpRole,
    sessionSecretRef: defaults?.sessionSecretRef,
  };
}

/** The terms a request asked for under one key record: its explicit session, else a discovered one. */
export function termsOfRecord(spec: PeeringRequestSpec, record: SessionKeyRecord): SessionTerms {
  const key = recordKey(spec.peerAsn, record);
  const explicit = spec.sessions?.find((s) => recordKey(s.peerAsn ?? spec.peerAsn, s) === key);
  return requestedTerms(spec, explicit ?? discoveredSession(spec, record));
}
