import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Discovery, DiscoveryQuery } from '../../discovery/common-locations.js';
import { parseIpAddress, type IpAddress } from '../../domain/ip.js';
import { naturalKey } from '../../domain/session.js';
import { returnUrlAddressProblem, returnUrlProblem, type ReturnUrlRules } from '../../domain/return-url.js';
import { TokenBucket } from '../../time/rate-limit.js';
import type { Clock } from '../../time/clock.js';
import { isConflict } from '../backing/errors.js';
import type { ResourceCollection } from '../backing/resource-collection.js';
import { LABEL } from '../resources/api-group.js';
import type { DesiredCondition } from '../resources/conditions.js';
import type { PeerApiCredentials } from '../resources/peer-api.js';
import {
  peeringRequest,
  type PeeringRequest,
  type PeeringRequestSpec,
} from '../resources/peering-request.js';
import type { PeeringSession } from '../resources/peering-session.js';
import type { EventRecorder } from '../runtime/events.js';
import { sessionName } from './naming.js';
import { discoveredSession, recordKey, requestedTerms } from './request-terms.js';

/** The receiver's policy for the draft's counter-request (configuration `policy.counterRequests`). */
export interface CounterRequestPolicy {
  mode: 'off' | 'auto' | 'manual';
  /** The locations of the request only, or every exchange both networks share. */
  locations?: 'requested' | 'shared' | undefined;
  perPeerPerHour: number;
  credentials: PeerApiCredentials;
  rules: ReturnUrlRules;
}

export interface CounterRequestDeps {
  requests: ResourceCollection<PeeringRequest>;
  sessions: ResourceCollection<PeeringSession>;
  discover: (query: DiscoveryQuery) => Promise<Discovery>;
  events: EventRecorder;
  clock: Clock;
  /** The addresses a host name resolves to (DNS by default). */
  resolve?: (host: string) => Promise<IpAddress[]>;
}

/** The condition on an inbound request that says what became of its counter-request. */
export const COUNTER_REQUESTED = 'CounterRequested';

/** Reasons after which nothing more will happen: the condition is kept as it is. */
const SETTLED = new Set(['Created', 'NothingMissing', 'ReturnUrlRefused']);

const HOUR_MS = 3_600_000;

/**
 * The draft's counter-request (its sessions D and E): when a peer's request carries a `return_url`, the
 * receiver approves what it can and asks the peer, at that URL, for the sessions both networks could have at the
 * same locations that the peer did not ask for. It is an outbound PeeringRequest like any other, labelled with
 * the request it answers, reconciled by the same code; under `manual` it is written suspended for a person to
 * release. The URL is a stranger's word, so it is checked (`domain/return-url.ts`) and resolved names are checked
 * again, redirects are never followed (our client follows none), and each peer gets a bounded number per hour.
 */
export class CounterRequests {
  private readonly buckets = new Map<number, TokenBucket>();
  private readonly resolve: (host: string) => Promise<IpAddress[]>;

  constructor(
    private readonly deps: CounterRequestDeps,
    private readonly policy: CounterRequestPolicy,
  ) {
    this.resolve = deps.resolve ?? resolveHost;
  }

  /** What became of the counter-request of one inbound request, and when to look again. */
  async consider(
    request: PeeringRequest,
    spec: PeeringRequestSpec,
  ): Promise<{ condition?: DesiredCondition; requeueAfterMs?: number }> {
    const returnUrl = spec.inbound?.returnUrl;
    if (this.policy.mode === 'off' || returnUrl === undefined) return {};
    const current = request.status?.conditions?.find((c) => c.type === COUNTER_REQUESTED);
    if (current && SETTLED.has(current.reason)) return {};
    const refused = await this.targetProblem(returnUrl);
    if (refused !== undefined) {
      const message = `return_url ${returnUrl.slice(0, 200)} ${refused}; no counter-request is sent`;
      this.deps.events.record(request, 'Warning', 'ReturnUrlRefused', message);
      return { condition: { type: COUNTER_REQUESTED, status: 'False', reason: 'ReturnUrlRefused', message } };
    }
    const missing = await this.missingSessions(request, spec);
    const locations = [...new Set(missing.map((s) => s.location))];
    if (missing.length === 0) {
      return {
        condition: {
          type: COUNTER_REQUESTED,
          status: 'False',
          reason: 'NothingMissing',
          message: `AS${spec.peerAsn} asked for every session both networks can have where it asked`,
        },
      };
    }
    const wait = this.bucketOf(spec.peerAsn).take();
    if (wait > 0) {
      return {
        condition: {
          type: COUNTER_REQUESTED,
          status: 'False',
          reason: 'RateLimited',
          message: `AS${spec.peerAsn} had ${this.policy.perPeerPerHour} counter-requests this hour; the next in ${Math.ceil(wait / 1000)} s`,
        },
        requeueAfterMs: wait,
      };
    }
    const name = counterRequestName(request.metadata.name);
    const manual = this.policy.mode === 'manual';
    const counter = peeringRequest(
      request.metadata.namespace,
      name,
      {
        direction: 'Outbound',
        localAsn: spec.localAsn,
        peerAsn: spec.peerAsn,
        peerApiUrl: returnUrl,
        credentials: withResource(this.policy.credentials, returnUrl),
        addressFamilies: ['ipv4', 'ipv6'],
        approved: false,
        sessions: missing,
        ...(manual ? { suspend: true } : {}),
      },
      {
        labels: {
          [LABEL.direction]: 'outbound',
          [LABEL.peerAsn]: String(spec.peerAsn),
          [LABEL.answers]: labelValue(request.metadata.name),
        },
        annotations: { [LABEL.answers]: request.metadata.name },
      },
    );
    try {
      await this.deps.requests.create(counter);
    } catch (error) {
      if (!(isConflict(error) && error.alreadyExists)) throw error;
    }
    const what = `${missing.length} session(s) at ${locations.join(', ')} AS${spec.peerAsn} did not ask for`;
    const message = manual
      ? `PeeringRequest ${name} asks for ${what}; it waits for a person: set spec.suspend to false to send it`
      : `PeeringRequest ${name} asks AS${spec.peerAsn} for ${what}, at its return_url`;
    this.deps.events.record(request, 'Normal', 'CounterRequested', message);
    return { condition: { type: COUNTER_REQUESTED, status: 'True', reason: 'Created', message } };
  }

  /** Why the return URL may not be asked, checked on its text and on every address its host resolves to. */
  private async targetProblem(returnUrl: string): Promise<string | undefined> {
    const problem = returnUrlProblem(returnUrl, this.policy.rules);
    if (problem !== undefined) return problem;
    const host = new URL(returnUrl).hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 || host === 'localhost') return undefined;
    let addresses: IpAddress[];
    try {
      addresses = await this.resolve(host);
    } catch {
      return `names a host that does not resolve (${host})`;
    }
    for (const address of addresses) {
      const refused = returnUrlAddressProblem(address, this.policy.rules);
      if (refused !== undefined) return `resolves to ${refused}`;
    }
    return undefined;
  }

  /**
   * The sessions PeeringDB says both networks can have at the locations of the request (or at every exchange
   * they share, by policy), in both families, less those the request asked for (accepted or not) and those that
   * exist in either direction.
   */
  private async missingSessions(request: PeeringRequest, spec: PeeringRequestSpec) {
    const asked = new Set<string>();
    const locations = new Set<string>();
    for (const session of spec.sessions ?? []) {
      asked.add(recordKey(session.peerAsn ?? spec.peerAsn, session));
      locations.add(session.location);
    }
    for (const rejection of spec.inbound?.rejections ?? []) {
      if (rejection.location === undefined) continue;
      asked.add(recordKey(spec.peerAsn, rejection));
      locations.add(rejection.location);
    }
    const shared = this.policy.locations === 'shared';
    const exchanges = [...locations].filter((l) => l.startsWith('pdb:ix:'));
    if (exchanges.length === 0 && !shared) return [];
    const found = await this.deps.discover({
      localAsn: spec.localAsn,
      peerAsn: spec.peerAsn,
      only: shared ? undefined : exchanges,
      families: ['ipv4', 'ipv6'],
    });
    const wanted = [];
    for (const candidate of found.sessions) {
      const where = { location: candidate.location.id, localIp: candidate.localIp, peerIp: candidate.peerIp };
      const terms = requestedTerms(spec, discoveredSession({}, where));
      if (asked.has(naturalKey(terms))) continue;
      if (await this.deps.sessions.get(request.metadata.namespace, sessionName(terms))) continue;
      wanted.push({
        ...where,
        localInsertAsn: true,
        peerInsertAsn: true,
        localMonitoringSession: false,
        peerMonitoringSession: false,
      });
    }
    return wanted;
  }

  private bucketOf(peerAsn: number): TokenBucket {
    let bucket = this.buckets.get(peerAsn);
    if (!bucket) {
      const perHour = this.policy.perPeerPerHour;
      bucket = new TokenBucket(perHour / (HOUR_MS / 1000), perHour, () => this.deps.clock.now());
      this.buckets.set(peerAsn, bucket);
    }
    return bucket;
  }
}

/** The counter-request's name: the inbound request's, prefixed (names are at most 253 characters). */
export function counterRequestName(inboundName: string): string {
  const name = `counter-${inboundName}`;
  return name.length <= 253 ? name : `counter-${hash(inboundName)}`;
}

/** A label value (at most 63 characters): the name itself, or a digest of a longer one. */
function labelValue(name: string): string {
  return name.length <= 63 ? name : hash(name);
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 40);
}

/** OAuth client credentials get the peer's API as their resource (the JWT's audience) unless one is set. */
function withResource(credentials: PeerApiCredentials, returnUrl: string): PeerApiCredentials {
  const oauth = credentials.oauth2ClientCredentials;
  if (!oauth || oauth.resource !== undefined) return credentials;
  return { ...credentials, oauth2ClientCredentials: { ...oauth, resource: returnUrl } };
}

async function resolveHost(host: string): Promise<IpAddress[]> {
  const answers = await lookup(host, { all: true, verbatim: true });
  return answers.flatMap((a) => {
    const parsed = parseIpAddress(a.address);
    return typeof parsed === 'string' ? [] : [parsed];
  });
}
