import { join } from 'node:path';
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
