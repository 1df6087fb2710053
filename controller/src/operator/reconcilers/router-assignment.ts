import { parseIpAddress, prefixContains } from '../../domain/ip.js';
import { findCondition } from '../resources/conditions.js';
import { firstSpecIssue } from '../resources/object.js';
import { RouterSpecSchema, type Router } from '../resources/router.js';

const SPEC_PROBLEMS = new WeakMap<Router, string | null>();

/**
 * What is wrong with a Router's spec (the CRD checks less than the operator: canonical addresses), or undefined.
 * Cached per cached object, which the informer replaces on every change.
 */
export function routerSpecProblem(router: Router): string | undefined {
  let problem = SPEC_PROBLEMS.get(router);
  if (problem === undefined) {
    const parsed = RouterSpecSchema.safeParse(router.spec);
    problem = parsed.success ? null : firstSpecIssue(parsed.error);
    SPEC_PROBLEMS.set(router, problem);
  }
  return problem ?? undefined;
}

/** Which Router a session goes on, or why none. */
export type Assignment =
  | { kind: 'assigned'; router: Router }
  | { kind: 'none'; reason: 'NoRouter'; message: string }
  | { kind: 'ambiguous'; reason: 'RouterConflict'; message: string };

/**
 * The one Router of `routers` (the session's namespace) that a session with local address `localIp` at
 * `locationId` goes on: among the Routers whose `locations` (when set) include the location, the one that holds
 * the address most specifically (the address itself beats a prefix, a longer prefix a shorter one). Two Routers
 * equally specific are a conflict, never a guess: a session configured on two routers, or on the wrong one,
 * would announce routes from where the peer does not expect them.
 *
 * @example
 * assignRouter('192.0.2.10', 'pdb:ix:26', routers); // { kind: 'assigned', router: edge1 }
 */
export function assignRouter(localIp: string, locationId: string, routers: readonly Router[]): Assignment {
  const address = parseIpAddress(localIp);
  if (typeof address === 'string') {
    return { kind: 'none', reason: 'NoRouter', message: `no router speaks from ${localIp}: ${address}` };
  }
  let best: { length: number; routers: Router[] } | undefined;
  for (const router of routers) {
    // A Router being deleted, or one whose spec the operator refuses (its status says why), takes nothing.
    if (router.metadata.deletionTimestamp || routerSpecProblem(router) !== undefined) continue;
    const locations = router.spec?.locations;
    if (locations && locations.length > 0 && !locations.includes(locationId)) continue;
    const length = matchLength(router.spec?.addresses ?? [], address);
    if (length === undefined) continue;
    if (!best || length > best.length) best = { length, routers: [router] };
    else if (length === best.length) best.routers.push(router);
  }
  if (!best) {
    return {
      kind: 'none',
      reason: 'NoRouter',
      message: `no Router speaks from ${localIp} at ${locationId}: declare one whose spec.addresses holds it`,
    };
  }
  if (best.routers.length > 1) {
    const names = best.routers.map((r) => r.metadata.name).sort();
    return {
      kind: 'ambiguous',
      reason: 'RouterConflict',
      message: `Routers ${names.join(', ')} all speak from ${localIp}: make exactly one hold it`,
    };
  }
  return { kind: 'assigned', router: best.routers[0] as Router };
}

/** How specifically `addresses` hold `address`: its prefix length (an address counts as a full-length prefix). */
function matchLength(
  addresses: readonly string[],
  address: { address: string; family: 'ipv4' | 'ipv6' },
): number | undefined {
  const full = address.family === 'ipv4' ? 32 : 128;
  let best: number | undefined;
  for (const entry of addresses) {
    const lengthText = entry.split('/')[1];
    if (lengthText === undefined) {
      const parsed = parseIpAddress(entry);
      if (typeof parsed !== 'string' && parsed.address === address.address) best = Math.max(best ?? 0, full);
      continue;
    }
    if (prefixContains(entry, address)) best = Math.max(best ?? 0, Number(lengthText));
  }
  return best;
}

/** Whether a Router's agent is there: its heartbeat is fresh, by the clock of the one asking. */
export type Connection = { connected: true } | { connected: false; reason: string; message: string };

/**
 * A Router's connection from its status at `now`: connected while the agent's last heartbeat is younger than
 * `timeoutMs`. An agent that said goodbye (RouterConnected=False) is gone at once, whatever its heartbeat.
 *
 * @example
 * routerConnection(router, Date.now(), 15_000); // { connected: false, reason: 'AgentLost', … }
 */
export function routerConnection(router: Router, now: number, timeoutMs: number): Connection {
  const name = router.metadata.name;
  const heartbeat = router.status?.agent?.heartbeatTime;
  if (heartbeat === undefined) {
    return {
      connected: false,
      reason: 'AgentNeverConnected',
      message: `no agent has reported for Router ${name} yet (run peering-operator router-agent --router ${name})`,
    };
  }
  const said = findCondition(router.status?.conditions, 'RouterConnected');
  if (said?.status === 'False' && said.reason === 'AgentStopped') {
    return { connected: false, reason: said.reason, message: said.message };
  }
  const age = now - Date.parse(heartbeat);
  if (!(age <= timeoutMs)) {
    return {
      connected: false,
      reason: 'AgentLost',
      message: `the agent of Router ${name} last reported at ${heartbeat} (${Math.round(age / 1000)} s ago)`,
    };
  }
  return { connected: true };
}
