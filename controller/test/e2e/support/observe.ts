import { PeeringApiClient } from '../../../src/client/client.js';
import type { RemoteSession } from '../../../src/client/answers.js';
import type { LabNetwork } from '../../../src/demo/two-networks.js';
import type { PeeringSession } from '../../../src/operator/resources/peering-session.js';
import type { BirdProcess } from '../../../src/router/bird/bird-process.js';
import { eventually } from '../../operator/support/cluster.js';
import { parseShowProtocols, type BirdProtocolStatus } from '../../../src/router/bird/show-protocols.js';

/** `eventually` with the argument order the e2e tests read best: what is awaited comes before the timeout. */
export function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  return eventually(check, timeoutMs, what);
}

/** The BGP protocols the driver manages in a BIRD, as BIRD itself reports them (`show protocols all "po_*"`). */
export async function peeringProtocols(bird: Pick<BirdProcess, 'command'>): Promise<BirdProtocolStatus[]> {
  return parseShowProtocols((await bird.command('show protocols all "po_*"')).lines).filter(
    (p) => p.proto === 'BGP',
  );
}

/** BIRD's protocol for the session with `peerAsn`, if it runs one. */
export async function protocolTo(
  bird: Pick<BirdProcess, 'command'>,
  peerAsn: number,
): Promise<BirdProtocolStatus | undefined> {
  return (await peeringProtocols(bird)).find((p) => p.neighborAs === peerAsn);
}

/** The prefixes BIRD holds from one protocol (`show route protocol NAME`), as printed. */
export async function routesFrom(bird: Pick<BirdProcess, 'birdc'>, protocol: string): Promise<string[]> {
  const text = await bird.birdc(`show route protocol ${protocol}`);
  return [...text.matchAll(/^([0-9a-f.:]+\/\d{1,3})\s/gm)].map((m) => m[1] as string);
}

/** The prefixes a protocol exports to its neighbour (`show route export NAME`). */
export async function routesTo(bird: Pick<BirdProcess, 'birdc'>, protocol: string): Promise<string[]> {
  const text = await bird.birdc(`show route export ${protocol}`);
  return [...text.matchAll(/^([0-9a-f.:]+\/\d{1,3})\s/gm)].map((m) => m[1] as string);
}

/**
 * `GET /sessions?asn=<caller>` at `server`'s Peering API, with `caller`'s tokens from the local issuer (and its
 * DPoP key, which proves and signs, when the lab runs `dpop+signature`).
 */
export async function sessionsAt(server: LabNetwork, caller: LabNetwork): Promise<RemoteSession[]> {
  const client = new PeeringApiClient({
    apiUrl: server.apiUrl,
    auth: caller.tokens(server.apiUrl),
    localAsns: [caller.asn],
    retry: { attempts: 1 },
  });
  try {
    const out: RemoteSession[] = [];
    for await (const session of client.listSessions({ asn: caller.asn })) out.push(session);
    return out;
  } finally {
    await client.close();
  }
}

/** The one PeeringSession of a network's store, when there is exactly one. */
export function onlySession(items: readonly PeeringSession[]): PeeringSession | undefined {
  return items.length === 1 ? items[0] : undefined;
}
