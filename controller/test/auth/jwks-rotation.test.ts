import { JwtAccessTokenVerifier } from '../../src/auth/jwt-verifier.js';
import { EXAMPLE_API_URL as API_URL, startExampleApi, type TestApi } from '../support/api-server.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';
import { decodeParts } from './forge.js';

// The issuer rotates its signing key while the API serves. The verifier's clock is the test's, so minutes
// pass without waiting: the key set is cached 10 minutes, refreshed on an unknown kid at most every 30 s.
const COOLDOWN_MS = 30_000;
const MAX_AGE_MS = 10 * 60_000;

describe('JWKS rotation during a run', () => {
  let issuer: TestIssuer;
  let api: TestApi;
  let status: (token: string) => Promise<number>;
  let clock = Date.now();

  beforeAll(async () => {
    issuer = await startTestIssuer();
    const verifier = new JwtAccessTokenVerifier({
      issuer: issuer.issuer,
      audience: API_URL,
      jwksCooldownMs: COOLDOWN_MS,
      jwksMaxAgeMs: MAX_AGE_MS,
      now: () => clock,
    });
    ({ api, status } = await startExampleApi([verifier]));
  });
  afterAll(async () => {
    await api?.stop();
    await issuer?.stop();
  });

  test('a new key is accepted once published, a removed key is rejected once the cache ages out', async () => {
    const oldToken = await issuer.jwtFor(64501, API_URL);
    const oldKid = decodeParts(oldToken).header.kid;
    expect(await status(oldToken)).toBe(200);

    const newKid = await issuer.rotateSigningKey();
    expect(newKid).not.toBe(oldKid);
    const newToken = await issuer.jwtFor(64501, API_URL);
    expect(decodeParts(newToken).header.kid).toBe(newKid);

    // Within the refresh cooldown the unknown kid is not fetched for: an issuer must publish keys before use.
    clock += 1000;
    expect(await status(newToken)).toBe(401);
    // After it, the unknown kid makes the server fetch the key set once, and the new key is trusted.
    clock += COOLDOWN_MS;
    expect(await status(newToken)).toBe(200);
    // The old key is still published: tokens it signed keep working.
    expect(await status(oldToken)).toBe(200);

    await issuer.retirePreviousKeys();
    expect(issuer.publishedKeyIds()).toEqual([newKid]);
    // Until the cached key set ages out, the old key is still known...
    clock += 60_000;
    expect(await status(oldToken)).toBe(200);
    // ...after that, the fresh key set no longer has it.
    clock += MAX_AGE_MS;
    expect(await status(oldToken)).toBe(401);
    expect(await status(newToken)).toBe(200);

    // Rotating again works the same way, and stays rate-limited (no fetch storm from a run of new kids).
    const thirdKid = await issuer.rotateSigningKey();
    const thirdToken = await issuer.jwtFor(64501, API_URL);
    expect(decodeParts(thirdToken).header.kid).toBe(thirdKid);
    clock += COOLDOWN_MS + 1;
    expect(await status(thirdToken)).toBe(200);
    expect(await status(newToken)).toBe(200);
  });
});
