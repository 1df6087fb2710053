import { join } from 'node:path';
import type { PeeringApiClient } from '../../src/client/client.js';
import { EXAMPLE_SESSION, startTestApi, type TestApi } from './api-server.js';
import { freePort } from './bird.js';
import type { TestIssuer } from './issuer.js';
import { EXAMPLES_DIR } from './sample.js';

/** The error body of a refusal, as the attack suites read it. */
export type ErrorBody = { errors: { name: string; code: string; errors: string[] }[] };

/** The AS64501 session the attacks try to create (the happy paths never ask for it). */
export const ATTACK_SESSION = { ...EXAMPLE_SESSION, local_ip: '2001:db8:1::1', peer_ip: '2001:db8:1::2' };

/**
 * Our real server, trusting `issuer`'s JWTs, with `auth` on top (policies, DPoP options); its public apiUrl is
 * where it listens, so that the htu and @target-uri clients sign and the ones the server checks agree.
 */
export async function startDpopApi(issuer: TestIssuer, auth: Record<string, unknown>): Promise<TestApi> {
  const port = await freePort(['127.0.0.1']);
  return startTestApi({
    config: {
      asns: [64500],
      apiUrl: `http://127.0.0.1:${port}/v0.1`,
      listen: `127.0.0.1:${port}`,
      auth: { issuers: [issuer.issuers.jwt], ...auth },
    },
    peeringDbDir: join(EXAMPLES_DIR, 'peeringdb'),
  });
}

/** The session the happy paths ask for through PeeringApiClient, in AS64501's reading. */
export const HAPPY_SESSION = {
  localAsn: 64501,
  localIp: '198.51.100.2',
  peerAsn: 64500,
  peerIp: '198.51.100.1',
  location: 'pdb:ix:2',
};

/**
 * The happy path through `client` (a client of AS64501 with its proofs, and signatures where asked): it asks for
 * {@link HAPPY_SESSION}, which must be accepted, reads it back by id and finds it in the list; resolves with its id.
 */
export async function requestReadAndList(client: PeeringApiClient): Promise<string> {
  const answer = await client.requestSessions([HAPPY_SESSION]);
  expect(answer.errors).toEqual([]);
  const id = answer.sessions[0]!.sessionId;
  expect((await client.getSession(id)).sessionId).toBe(id);
  const all: string[] = [];
  for await (const session of client.listSessions({ asn: 64501 })) all.push(session.sessionId);
  expect(all).toContain(id);
  return id;
}
