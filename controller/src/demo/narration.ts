import type { OperatorBacking } from '../operator/backing/backing.js';
import type { PeeringRequest } from '../operator/resources/peering-request.js';
import type { PeeringSession } from '../operator/resources/peering-session.js';
import type { BirdProcess } from '../router/bird/bird-process.js';
import { parseShowProtocols } from '../router/bird/show-protocols.js';

/** What the demo shows of one network at one moment: its resources and what its BIRD says. */
export interface NetworkSnapshot {
  asn: number;
  requests: RequestView[];
  sessions: NarratedSession[];
  /** BIRD's peering protocols, or why they could not be read. */
  bird: ProtocolView[] | { unreachable: string };
}

export interface RequestView {
  name: string;
  direction: 'Outbound' | 'Inbound';
  peerAsn: number;
  phase?: string | undefined;
  /** A POST is in flight (the crash-safe intent is on record). */
  posting: boolean;
  requestId?: string | undefined;
  requestedBy?: string | undefined;
  /** How an Outbound request authenticates at the peer: a bearer token, or a DPoP key that also signs. */
  proof?: 'bearer' | 'dpop' | undefined;
  accepted: number;
  rejections: string[];
}

export interface NarratedSession {
  name: string;
  sessionId: string;
  direction: 'Outbound' | 'Inbound';
  peerAsn: number;
  location: string;
  localIp: string;
  peerIp: string;
  state?: string | undefined;
  /** The Configured condition: on our router, or why not. */
  configured: { ok: boolean; message: string } | undefined;
  bgp?: { state: string; received: number; sent: number; lastError?: string | undefined } | undefined;
}

export interface ProtocolView {
  name: string;
  neighborAs?: number | undefined;
  bgpState: string;
  lastError?: string | undefined;
  /** Prefixes BIRD holds from this protocol. */
  received: string[];
}

/** Reads one network's snapshot from its store and its BIRD. */
export async function snapshotOf(
  asn: number,
  backing: Pick<OperatorBacking, 'requests' | 'sessions'>,
  namespace: string,
  bird: Pick<BirdProcess, 'command' | 'birdc'>,
): Promise<NetworkSnapshot> {
  const [requests, sessions] = await Promise.all([
    backing.requests.list({ namespace }),
    backing.sessions.list({ namespace }),
  ]);
  let protocols: NetworkSnapshot['bird'];
  try {
    const parsed = parseShowProtocols((await bird.command('show protocols all "po_*"')).lines).filter(
      (p) => p.proto === 'BGP',
    );
    protocols = [];
    for (const p of parsed) {
      const received =
        p.bgpState === 'Established'
          ? [
              ...(await bird.birdc(`show route protocol ${p.name}`)).matchAll(/^([0-9a-f.:]+\/\d{1,3})\s/gm),
            ].map((m) => m[1] as string)
          : [];
      protocols.push({
        name: p.name,
        neighborAs: p.neighborAs,
        bgpState: p.bgpState ?? p.state,
        lastError: p.lastError,
        received,
      });
    }
  } catch (error) {
    protocols = { unreachable: error instanceof Error ? error.message : String(error) };
  }
  return {
    asn,
    requests: requests.items.map(requestView),
    sessions: sessions.items.map(narratedSession),
    bird: protocols,
  };
}

function requestView(r: PeeringRequest): RequestView {
  return {
    name: `${r.metadata.namespace}/${r.metadata.name}`,
    direction: r.spec.direction,
    peerAsn: r.spec.peerAsn,
    phase: r.status?.phase,
    posting: r.status?.intent !== undefined,
    requestId: r.status?.requestId,
    requestedBy: r.spec.inbound?.requestedBy,
    proof: r.spec.credentials?.oauth2ClientCredentials?.dpopKeySecretRef ? 'dpop' : 'bearer',
    accepted: r.status?.accepted?.length ?? 0,
    rejections: (r.status?.rejected ?? []).map((x) => x.message),
  };
}

function narratedSession(s: PeeringSession): NarratedSession {
  const configured = s.status?.conditions?.find((c) => c.type === 'Configured');
  const bgp = s.status?.bgp;
  return {
    name: `${s.metadata.namespace}/${s.metadata.name}`,
    sessionId: s.spec.sessionId,
    direction: s.spec.direction,
    peerAsn: s.spec.peerAsn,
    location: s.spec.location.id,
    localIp: s.spec.localIp,
    peerIp: s.spec.peerIp,
    state: s.status?.state,
    configured: configured ? { ok: configured.status === 'True', message: configured.message } : undefined,
    bgp: bgp
      ? {
          state: bgp.state,
          received: bgp.prefixesReceived ?? 0,
          sent: bgp.prefixesSent ?? 0,
          lastError: bgp.lastError,
        }
      : undefined,
  };
}

/** One step of the story, with its place in the negotiation (steps seen in one look are told in this order). */
export interface Step {
  stage: number;
  text: string;
}

/** The order in which steps seen at the same moment are told: the order in which they happen. */
const STAGE = {
  applied: 0,
  sent: 1,
  received: 2,
  answered: 3,
  recorded: 4,
  state: 5,
  router: 6,
  bgp: 7,
  routes: 8,
  gone: 9,
} as const;

/**
 * The negotiation step by step: what changed from `before` to `after` for one network (a request sent or
 * received, an acceptance, a session configured on the router, BGP states, routes), in words. Pure, so the
 * wording is tested without daemons. Sort the steps of both networks by `stage` before telling them.
 *
 * @example
 * describeChanges(previous, current); // [{ stage: 1, text: 'AS64500 → AS64501: POST /sessions sent …' }, …]
 */
export function describeChanges(before: NetworkSnapshot | undefined, after: NetworkSnapshot): Step[] {
  const us = `AS${after.asn}`;
  const steps: Step[] = [];
  const say = (stage: keyof typeof STAGE, text: string) => steps.push({ stage: STAGE[stage], text });
  const oldRequests = new Map(before?.requests.map((r) => [r.name, r]));
  for (const r of after.requests) {
    const old = oldRequests.get(r.name);
    const peer = `AS${r.peerAsn}`;
    if (!old) {
      if (r.direction === 'Outbound')
        say('applied', `${us}: PeeringRequest ${r.name} applied: peer with ${peer}`);
      else {
        say(
          'received',
          `${us}: ${peer} asked for sessions through our Peering API (POST /sessions${r.requestedBy ? ` by ${r.requestedBy}` : ''}); checked against PeeringDB and our policy, recorded as PeeringRequest ${r.name}`,
        );
      }
    }
    // A POST is often answered between two looks: the answer tells that it was sent.
    const sent = r.posting || r.requestId !== undefined;
    const wasSent = old !== undefined && (old.posting || old.requestId !== undefined);
    if (r.direction === 'Outbound' && sent && !wasSent) {
      say(
        'sent',
        r.proof === 'dpop'
          ? `${us} → ${peer}: POST /sessions sent (a JWT for ${peer}'s API bound to our DPoP key, a fresh DPoP proof, the request signed with that key)`
          : `${us} → ${peer}: POST /sessions sent (bearer: a JWT for ${peer}'s API from the issuer)`,
      );
    }
    if (r.direction === 'Outbound' && r.requestId && r.requestId !== old?.requestId && !r.posting) {
      say(
        'answered',
        `${us}: ${peer} answered: ${r.accepted} session(s) accepted, ${r.rejections.length} rejected (request id ${r.requestId})`,
      );
      for (const reason of r.rejections) say('answered', `${us}:   rejected: ${reason}`);
    }
    if (r.phase && r.phase !== old?.phase) say('recorded', `${us}: PeeringRequest ${r.name} is ${r.phase}`);
  }
  for (const old of before?.requests ?? []) {
    if (!after.requests.some((r) => r.name === old.name))
      say('gone', `${us}: PeeringRequest ${old.name} is gone`);
  }

  const oldSessions = new Map(before?.sessions.map((s) => [s.sessionId, s]));
  for (const s of after.sessions) {
    const old = oldSessions.get(s.sessionId);
    const peer = `AS${s.peerAsn}`;
    if (!old) {
      say(
        'recorded',
        `${us}: PeeringSession ${s.name} (${s.direction}, session id ${s.sessionId}): ${s.localIp} ↔ ${peer} ${s.peerIp} at ${s.location}`,
      );
    }
    if (s.state && s.state !== old?.state) {
      say(
        'state',
        `${us}: session with ${peer} is ${s.state}${s.direction === 'Outbound' ? ` (says ${peer})` : ''}`,
      );
    }
    const configured = s.configured;
    if (
      configured &&
      (configured.ok !== old?.configured?.ok ||
        (!configured.ok && configured.message !== old.configured.message))
    ) {
      say(
        'router',
        configured.ok ? `${us}: configured on our BIRD` : `${us}: not on our BIRD: ${configured.message}`,
      );
    }
  }
  for (const old of before?.sessions ?? []) {
    if (!after.sessions.some((s) => s.sessionId === old.sessionId)) {
      say('gone', `${us}: PeeringSession ${old.name} is gone`);
    }
  }

  const oldBird = before && !('unreachable' in before.bird) ? before.bird : [];
  if ('unreachable' in after.bird) {
    if (!before || !('unreachable' in before.bird))
      say('bgp', `${us}: BIRD cannot be reached: ${after.bird.unreachable}`);
    return steps;
  }
  if (before && 'unreachable' in before.bird) say('router', `${us}: BIRD answers again`);
  const oldProtocols = new Map(oldBird.map((p) => [p.name, p]));
  for (const p of after.bird) {
    const old = oldProtocols.get(p.name);
    const peer = p.neighborAs ? `AS${p.neighborAs}` : 'the peer';
    if (!old) say('router', `${us}: BIRD runs protocol ${p.name} to ${peer}`);
    if (p.bgpState !== old?.bgpState) {
      const why = p.lastError && p.bgpState !== 'Established' ? ` (${p.lastError})` : '';
      say('bgp', `${us}: BIRD: BGP ${old ? `${old.bgpState} → ` : ''}${p.bgpState}${why}`);
    }
    for (const prefix of p.received) {
      if (!old?.received.includes(prefix)) say('routes', `${us}: BIRD received ${prefix} from ${peer}`);
    }
  }
  for (const old of oldBird) {
    if (!after.bird.some((p) => p.name === old.name)) say('gone', `${us}: BIRD no longer runs ${old.name}`);
  }
  return steps;
}

/** One line of the steady state of a network: its sessions with state, BGP and routes. */
export function summaryOf(snapshot: NetworkSnapshot): string {
  const sessions = snapshot.sessions.map((s) => {
    const bgp = s.bgp ? `, BGP ${s.bgp.state}, ${s.bgp.received} received / ${s.bgp.sent} sent` : '';
    return `${s.state ?? 'new'} with AS${s.peerAsn}${bgp}`;
  });
  return `AS${snapshot.asn}: ${sessions.length === 0 ? 'no sessions' : sessions.join('; ')}`;
}
