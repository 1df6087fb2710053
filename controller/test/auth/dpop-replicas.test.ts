import { join } from 'node:path';
import { request } from 'undici';
import { DpopKey } from '../../src/auth/dpop-key.js';
import { startTestApi, type TestApi } from '../support/api-server.js';
import { freePort } from '../support/bird.js';
import type { ErrorBody } from '../support/dpop-api.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { EXAMPLES_DIR } from '../support/sample.js';

// Two replicas behind one public URL, as the chart runs them (both serve the API, in front of one store), each
// with its own in-memory replay cache. A proof captured in flight at one replica and replayed at the other is
// refused only when nonces are replica-scoped: each replica's nonce key is its own, so a proof carrying replica
// A's nonce is no good at B, and at A its jti is already spent. With shared nonces the replay gets through: the
// gap `nonceScope: replica` closes, without a replay cache shared through the store.
describe.each(['replica', 'shared'] as const)('DPoP across two replicas, nonceScope %s', (nonceScope) => {
  let issuer: TestIssuer;
  let a: TestApi;
  let b: TestApi;
  let key: DpopKey;
  let token: string;
  let publicUrl: string;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    const [portA, portB] = [await freePort(['127.0.0.1']), await freePort(['127.0.0.1'])];
    publicUrl = `http://127.0.0.1:${portA}/v0.1`;
    const config = (port: number) => ({
      asns: [64500],
      apiUrl: publicUrl,
      listen: `127.0.0.1:${port}`,
      auth: {
        issuers: [issuer.issuers.jwt],
        policy: 'dpop' as const,
        dpop: { nonces: true, nonceScope },
      },
    });
    a = await startTestApi({ config: config(portA), peeringDbDir: join(EXAMPLES_DIR, 'peeringdb') });
    // Replica B: the same store and data folder (so the same page-token key), its own process state.
    b = await startTestApi({
      config: config(portB),
      peeringDbDir: join(EXAMPLES_DIR, 'peeringdb'),
      dataDir: a.dataDir,
      store: a.store,
    });
    key = await DpopKey.generate();
    token = await issuer.tokenSource('admin64501', publicUrl, key).token();
  });
  afterAll(async () => {
    await b?.stop({ keepData: true });
    await a?.stop();
    await issuer?.stop();
  });

  const get = async (origin: string, headers: Record<string, string>) => {
    const response = await request(`${origin}/v0.1/sessions?asn=64501`, { headers });
    const body = (await response.body.json()) as ErrorBody;
    return {
      status: response.statusCode,
      code: body.errors?.[0]?.code,
      nonce: response.headers['dpop-nonce'] as string | undefined,
    };
  };
  /** A request as our client would send it to the public URL, with a fresh proof carrying `nonce`. */
  const captured = async (nonce: string | undefined) => {
    key.rememberNonce(publicUrl, nonce);
    return {
      authorization: `DPoP ${token}`,
      dpop: await key.proof('GET', `${publicUrl}/sessions`, token),
      accept: 'application/json',
    };
  };

  test('a proof accepted at replica A, replayed at B and then at A', async () => {
    // The first request learns A's nonce (use_dpop_nonce), the second is accepted.
    const first = await get(a.origin, await captured(undefined));
    expect(first).toMatchObject({ status: 401, code: 'DPOP_NONCE_REQUIRED' });
    const request = await captured(first.nonce);
    expect(await get(a.origin, request)).toMatchObject({ status: 200 });

    const atB = await get(b.origin, request);
    if (nonceScope === 'replica') {
      expect(atB).toMatchObject({ status: 401, code: 'DPOP_NONCE_REQUIRED' });
      // B hands out its own nonce, with which a fresh proof is good there.
      expect(atB.nonce).toBeDefined();
      expect(atB.nonce).not.toBe(first.nonce);
      expect(await get(b.origin, await captured(atB.nonce))).toMatchObject({ status: 200 });
    } else {
      expect(atB).toMatchObject({ status: 200 }); // the replay the shared scope lets through
    }
    expect(await get(a.origin, request)).toMatchObject({ status: 401, code: 'DPOP_JTI_REPLAYED' });
  });
});
