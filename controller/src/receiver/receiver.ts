import { randomUUID } from 'node:crypto';
import { canRead, canWrite, auditName, readableAsns, type Identity } from '../auth/identity.js';
import { PeeringError, type FieldError } from '../domain/errors.js';
import { ixLocationId, facilityLocationId, type Location, type PeeringType } from '../domain/location.js';
import { naturalKey, SESSION_ID_PATTERN, termsDifferences, type SessionTerms } from '../domain/session.js';
import { wireFieldName } from '../domain/session-rules.js';
import {
  SessionInputSchema,
  swapFieldName,
  termsFromWire,
  wireSession,
  type OurSide,
  type WireSession,
} from '../domain/session-wire.js';
import { windowExpired } from '../domain/time-window.js';
import type { PeeringDb } from '../peeringdb/peeringdb.js';
import type { SessionStore, StoredSession, NewSession, SessionPage } from '../store/store.js';
import { gatherLocationFacts, addressesOf } from './facts.js';
import {
  judgeSession,
  pendingLimitRejection,
  type LocationFacts,
  type ReceiverPolicy,
  type Rejection,
} from './policy.js';
import { issuesToFieldErrors } from './issues.js';

/** One session of a request, parsed, in our reading, with the wire side the caller put us on. */
interface Candidate {
  index: number;
  terms: SessionTerms;
  ourSide: OurSide;
}

/** A candidate the policy accepted, with the id it will have. */
interface Accepted {
  index: number;
  session: NewSession;
  ourSide: OurSide;
}

/** A session of the same natural key exists with other terms: named by the first difference, all of them listed. */
function otherTerms(
  sessionId: string,
  differences: readonly (keyof SessionTerms)[],
  ourSide: OurSide,
): Rejection {
  // Rejection fields are in our reading (the caller's reading is applied to `field` when the error is named).
  const ours = differences.map((field) => wireFieldName(field));
  const theirs = ours.map((field) => (ourSide === 'peer' ? swapFieldName(field) : field));
  return {
    field: ours[0] ?? 'sessions',
    code: 'SESSION_EXISTS_WITH_OTHER_TERMS',
    message:
      `session ${sessionId} exists with other ${theirs.join(', ')}; it was left as it is ` +
      '(remove it first, or ask for the same terms)',
  };
}

const DUPLICATE_IN_REQUEST: Rejection = {
  field: 'peer_ip',
  code: 'DUPLICATE_IN_REQUEST',
  message: 'this session appears earlier in the same request',
};

/** A `POST /sessions` body after its envelope was checked; the sessions themselves are judged one by one. */
export interface SessionRequest {
  clientRequestId?: string | undefined;
  returnUrl?: string | undefined;
  sessions: unknown[];
}

export interface RequestAnswer {
  request_id: string;
  sessions: WireSession[];
  errors: FieldError[];
}

/** A location as `GET /locations` lists it, with our addresses there so a client needs no second look-up. */
export interface LocationListing extends Location {
  name?: string;
  asn: number;
  local_ips?: string[];
}

export interface ReceiverDeps {
  store: SessionStore;
  peeringDb: PeeringDb;
  policy: ReceiverPolicy;
  now?: () => Date;
  newId?: () => string;
}

/**
 * The receiving side of the Peering API as use cases, free of HTTP: who may see what, how a request is judged
 * and recorded, how sessions are listed and removed. The HTTP layer only parses and formats.
 */
export class Receiver {
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(private readonly deps: ReceiverDeps) {
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? randomUUID;
  }

  get policy(): ReceiverPolicy {
    return this.deps.policy;
  }

  /** `POST /sessions`: judge each session, record the accepted ones atomically, explain the rest. */
  async requestSessions(identity: Identity, request: SessionRequest): Promise<RequestAnswer> {
    const { candidates, errors } = this.readSessions(request.sessions);
    // Authorization is all or nothing: a token that does not hold an ASN gets no per-item hints about it.
    for (const { terms } of candidates) {
      if (!canWrite(identity, terms.peerAsn)) {
        throw new PeeringError(
          'FORBIDDEN_ASN',
          `your identity does not hold AS${terms.peerAsn} with permission to manage peering sessions`,
          'peer_asn',
        );
      }
    }
    if (candidates.length === 0 && errors.length === 0) {
      throw new PeeringError('MISSING_FIELD', 'the request has no sessions', 'sessions');
    }
    if (request.clientRequestId !== undefined) {
      const peerAsns = [...new Set(candidates.map((c) => c.terms.peerAsn))];
      const seen = await this.deps.store.findRequest(peerAsns, request.clientRequestId);
      if (seen) {
        const sessions = await this.sessionsByIds(seen.sessionIds);
        return this.answerReplay(seen.requestId, seen.errors, sessions, candidates);
      }
    }
    const accepted = await this.judgeSessions(candidates, errors);
    errors.sort((a, b) => indexOf(a.name) - indexOf(b.name));
    if (accepted.length === 0) {
      throw new PeeringError('INVALID_FIELD', 'no session of the request can be accepted', 'sessions', {
        details: errors,
      });
    }
    const result = await this.deps.store.submit(
      {
        requestId: this.newId(),
        peerAsn: accepted[0]!.session.terms.peerAsn,
        clientRequestId: request.clientRequestId,
        returnUrl: request.returnUrl,
        errors,
        sessionIds: [],
        createdAt: this.now().toISOString(),
        createdBy: auditName(identity),
      },
      accepted.map((a) => a.session),
    );
    if (result.replayed)
      return this.answerReplay(result.request.requestId, result.request.errors, result.sessions, candidates);
    return {
      request_id: result.request.requestId,
      sessions: result.sessions.map((stored, i) => toWire(stored, accepted[i]?.ourSide ?? 'local')),
      errors,
    };
  }

  /** `GET /sessions`: the caller's sessions, of one ASN or of all it holds, optionally of one request. */
  async listSessions(
    identity: Identity,
    query: {
      asn?: number | undefined;
      requestId?: string | undefined;
      cursor?: string | undefined;
      limit: number;
    },
  ): Promise<{ sessions: WireSession[]; cursor?: string | undefined }> {
    const asns = this.visibleAsns(identity, query.asn);
    let requestId = query.requestId;
    if (requestId !== undefined) {
      // Either the server's request id or the one the client proposed.
      const request = await this.deps.store.findRequest(asns, requestId);
      if (!request) return { sessions: [] };
      requestId = request.requestId;
    }
    const page: SessionPage = await this.deps.store.list({
      peerAsns: asns,
      requestId,
      cursor: query.cursor,
      limit: query.limit,
    });
    return { sessions: page.sessions.map((s) => toWire(s, 'local')), cursor: page.cursor };
  }

  /** `GET /sessions/{id}`: 404 for a session that does not exist or is not the caller's (never 403). */
  async getSession(identity: Identity, sessionId: string): Promise<WireSession> {
    return toWire(await this.visibleSession(identity, sessionId, 'read'), 'local');
  }

  /**
   * `DELETE /sessions/{id}`: gone from reads at once; de-configuration follows. 404 as for `GET`; 403 for a caller
   * that may see the session but not manage its network's sessions.
   */
  async removeSession(identity: Identity, sessionId: string): Promise<void> {
    const session = await this.visibleSession(identity, sessionId, 'remove');
    await this.deps.store.remove([session.sessionId], auditName(identity));
  }

  /** `DELETE /sessions` (batch): per-item answer, like `POST`; a session named twice is removed and reported once. */
  async removeSessions(
    identity: Identity,
    sessionIds: string[],
  ): Promise<{ sessions: WireSession[]; errors: FieldError[] }> {
    const errors: FieldError[] = [];
    const removable: StoredSession[] = [];
    const named = new Set<string>();
    for (const [index, id] of sessionIds.entries()) {
      try {
        const session = await this.visibleSession(identity, id, 'remove');
        // Named twice: removed once, and the repeat said so, as a repeated session in POST is.
        if (named.has(session.sessionId)) {
          throw new PeeringError('DUPLICATE_IN_REQUEST', DUPLICATE_IN_REQUEST.message);
        }
        named.add(session.sessionId);
        removable.push(session);
      } catch (error) {
        if (!(error instanceof PeeringError)) throw error;
        errors.push({ name: `sessions[${index}].session_id`, code: error.code, errors: [error.message] });
      }
    }
    const removed = new Set(
      await this.deps.store.remove(
        removable.map((s) => s.sessionId),
        auditName(identity),
      ),
    );
    return {
      sessions: removable.filter((s) => removed.has(s.sessionId)).map((s) => toWire(s, 'local')),
      errors,
    };
  }

  /**
   * `GET /locations`: where one of our ASNs (or all) can be peered with, with our addresses there. `asn` is a
   * filter like `location_type`: an ASN we do not serve is present nowhere, an empty list (docs/api.md §10).
   */
  async listLocations(asn: number | undefined, type: PeeringType | undefined): Promise<LocationListing[]> {
    if (asn !== undefined && !this.isOurs(asn)) return [];
    const out: LocationListing[] = [];
    for (const ourAsn of asn === undefined ? this.deps.policy.ourAsns : [asn]) {
      if (type !== 'private') {
        const ports = (await this.deps.peeringDb.netixlans(ourAsn)).filter((p) => p.operational);
        const ixIds = [...new Set(ports.map((p) => p.ix_id))].sort((a, b) => a - b);
        for (const ixId of ixIds) {
          const ix = await this.deps.peeringDb.ix(ixId);
          const listing: LocationListing = { id: ixLocationId(ixId), type: 'public', asn: ourAsn };
          if (ix) listing.name = ix.name;
          listing.local_ips = [...addressesOf(ports.filter((p) => p.ix_id === ixId))];
          out.push(listing);
        }
      }
      if (type !== 'public') {
        const facs = [...new Set((await this.deps.peeringDb.netfacs(ourAsn)).map((f) => f.fac_id))].sort(
          (a, b) => a - b,
        );
        for (const facId of facs) {
          const fac = await this.deps.peeringDb.facility(facId);
          const listing: LocationListing = { id: facilityLocationId(facId), type: 'private', asn: ourAsn };
          if (fac) listing.name = fac.name;
          out.push(listing);
        }
      }
    }
    return out;
  }

  /**
   * Approved sessions not established within the time window become `unestablished` (docs/api.md §13), by the
   * rule the operator applies too ({@link windowExpired}: counted from the approval). Only `peering-operator
   * serve` sweeps; under the operator, the leader's session reconciler applies the window.
   */
  async expireSessions(windowMs: number): Promise<string[]> {
    const now = this.now().getTime();
    const expired: string[] = [];
    for (const session of await this.deps.store.all()) {
      if (windowExpired(session.status, session.acceptedAt, now, windowMs)) {
        await this.deps.store.setStatus(
          session.sessionId,
          'unestablished',
          'not established within the time window',
        );
        expired.push(session.sessionId);
      }
    }
    return expired;
  }

  /** Each session of a request parsed and put in our reading, or explained; the order of the input kept. */
  private readSessions(raw: readonly unknown[]): { candidates: Candidate[]; errors: FieldError[] } {
    const errors: FieldError[] = [];
    const candidates: Candidate[] = [];
    raw.forEach((input, index) => {
      const parsed = SessionInputSchema.safeParse(input);
      if (!parsed.success) {
        errors.push(...issuesToFieldErrors(parsed.error.issues, `sessions[${index}]`));
        return;
      }
      const { local_asn: localAsn, peer_asn: peerAsn } = parsed.data;
      const oursLocal = this.isOurs(localAsn);
      if (oursLocal === this.isOurs(peerAsn)) {
        errors.push({
          name: `sessions[${index}].local_asn`,
          code: 'ASN_NOT_OURS',
          errors: [
            oursLocal
              ? `both AS${localAsn} and AS${peerAsn} are ours; one side must be your network`
              : `we peer as ${this.deps.policy.ourAsns.map((a) => `AS${a}`).join(', ')}; neither AS${localAsn} nor AS${peerAsn} is ours`,
          ],
        });
        return;
      }
      // The flipped reading (local = initiator) is accepted and answered in kind (docs/api.md §3).
      const ourSide: OurSide = oursLocal ? 'local' : 'peer';
      candidates.push({ index, terms: termsFromWire(parsed.data, ourSide), ourSide });
    });
    return { candidates, errors };
  }

  /**
   * The policy's verdict on each candidate against PeeringDB (looked up once per location and pair of ASNs),
   * duplicates and the pending limit included; rejections go to `errors` under the caller's field names.
   */
  private async judgeSessions(candidates: readonly Candidate[], errors: FieldError[]): Promise<Accepted[]> {
    const factsCache = new Map<string, Promise<LocationFacts>>();
    const facts = ({ location, localAsn, peerAsn }: SessionTerms) => {
      const key = `${location.id}|${localAsn}|${peerAsn}`;
      let hit = factsCache.get(key);
      if (!hit)
        factsCache.set(key, (hit = gatherLocationFacts(this.deps.peeringDb, location, localAsn, peerAsn)));
      return hit;
    };
    const seenKeys = new Set<string>();
    const accepted: Accepted[] = [];
    const pendingByPeer = new Map<number, number>();
    for (const { terms, index, ourSide } of candidates) {
      const reject = (rejections: Rejection[]) =>
        errors.push(
          ...rejections.map((r) => ({
            name: `sessions[${index}].${ourSide === 'peer' ? swapFieldName(r.field) : r.field}`,
            code: r.code,
            errors: [r.message],
          })),
        );
      const key = naturalKey(terms);
      if (seenKeys.has(key)) {
        reject([DUPLICATE_IN_REQUEST]);
        continue;
      }
      seenKeys.add(key);
      // Asking again for a session that exists is answered with it, but only for the same terms: other terms
      // were not applied, and the caller must be told so (issue 14).
      const existing = await this.deps.store.findByKey(terms);
      const differences = existing ? termsDifferences(existing.terms, terms) : [];
      if (existing && differences.length > 0) {
        reject([otherTerms(existing.sessionId, differences, ourSide)]);
        continue;
      }
      const verdict = judgeSession(terms, await facts(terms), this.deps.policy);
      if (!verdict.accepted) {
        reject(verdict.rejections);
        continue;
      }
      if (verdict.status === 'pending') {
        const pending =
          pendingByPeer.get(terms.peerAsn) ?? (await this.deps.store.countByStatus(terms.peerAsn, 'pending'));
        const overLimit = pendingLimitRejection(terms.peerAsn, pending, this.deps.policy);
        if (overLimit) {
          reject([overLimit]);
          continue;
        }
        pendingByPeer.set(terms.peerAsn, pending + 1);
      }
      accepted.push({ index, ourSide, session: { sessionId: this.newId(), terms, status: verdict.status } });
    }
    return accepted;
  }

  private isOurs(asn: number): boolean {
    return this.deps.policy.ourAsns.includes(asn);
  }

  private visibleAsns(identity: Identity, asn: number | undefined): number[] {
    if (asn === undefined) return readableAsns(identity);
    if (!canRead(identity, asn)) {
      throw new PeeringError('FORBIDDEN_ASN', `your identity does not hold AS${asn}`, 'asn');
    }
    return [asn];
  }

  /**
   * The session of an id, for reading or for removal. A session the caller may not read answers as one that does
   * not exist, so ids cannot be probed (docs/api.md §8); one it may read but not remove is a 403, so a read-only
   * member of the owning network is told, and nobody believes a de-peering happened that did not.
   */
  private async visibleSession(
    identity: Identity,
    sessionId: string,
    access: 'read' | 'remove',
  ): Promise<StoredSession> {
    if (!SESSION_ID_PATTERN.test(sessionId)) {
      throw new PeeringError(
        'INVALID_SESSION_ID',
        `"${sessionId.slice(0, 64)}" is not a session id (a UUID)`,
        'session_id',
      );
    }
    // UUIDs are case-insensitive on input (RFC 9562 §4); ours are stored in lower case.
    const id = sessionId.toLowerCase();
    const session = await this.deps.store.get(id);
    if (!session || !canRead(identity, session.terms.peerAsn)) {
      throw new PeeringError('SESSION_NOT_FOUND', `no session ${id} is visible to you`, 'session_id');
    }
    if (access === 'remove' && !canWrite(identity, session.terms.peerAsn)) {
      throw new PeeringError(
        'FORBIDDEN_ASN',
        `your identity may read but not manage the peering sessions of AS${session.terms.peerAsn}`,
        'session_id',
      );
    }
    return session;
  }

  private async sessionsByIds(ids: readonly string[]): Promise<StoredSession[]> {
    const sessions = await Promise.all(ids.map((id) => this.deps.store.get(id)));
    return sessions.filter((s): s is StoredSession => s !== undefined);
  }

  private answerReplay(
    requestId: string,
    errors: FieldError[],
    sessions: StoredSession[],
    candidates: readonly Candidate[],
  ): RequestAnswer {
    const flippedKeys = new Set(
      candidates.filter((c) => c.ourSide === 'peer').map((c) => naturalKey(c.terms)),
    );
    return {
      request_id: requestId,
      sessions: sessions.map((s) => toWire(s, flippedKeys.has(naturalKey(s.terms)) ? 'peer' : 'local')),
      errors,
    };
  }
}

/**
 * The wire forms of stored sessions the store hands out more than once (the SQLite store's decoded cache): a
 * frozen session always has the same wire form, so it is built once per reading, not on every read.
 */
const WIRE_FORMS = new WeakMap<StoredSession, Partial<Record<OurSide, WireSession>>>();

/** Stored (our reading) → wire, in the reading the caller used; frozen, like the stored session it comes from. */
function toWire(session: StoredSession, ourSide: OurSide): WireSession {
  if (!Object.isFrozen(session))
    return wireSession(session.terms, ourSide, session.sessionId, session.status);
  let forms = WIRE_FORMS.get(session);
  if (forms === undefined) {
    forms = {};
    WIRE_FORMS.set(session, forms);
  }
  return (forms[ourSide] ??= Object.freeze(
    wireSession(session.terms, ourSide, session.sessionId, session.status),
  ));
}

function indexOf(name: string): number {
  return Number(/^sessions\[(\d+)\]/.exec(name)?.[1] ?? -1);
}
