import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, exportJWK, SignJWT, type JWK } from 'jose';
import { request } from 'undici';
import { DpopKey } from '../../src/auth/dpop-key.js';
import { tokenDigest } from '../../src/auth/identity.js';
import { PeeringApiClient } from '../../src/client/client.js';
import { EXAMPLE_SESSION, type TestApi } from '../support/api-server.js';
import { ATTACK_SESSION, requestReadAndList, startDpopApi, type ErrorBody } from '../support/dpop-api.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';

// RFC 9449 end to end: the real PeeringDB-like issuer binds tokens to the client's key (and asks for its nonce
// at the token endpoint), our real server under `auth.policy: dpop` checks every proof. Each attack is a
// POST /sessions that would create a session if it got through: it must be a 401 with the DPoP challenge and
// its own catalog code, and the session must not exist afterwards.

interface Sent {
  status: number;
  body: unknown;
  code: string | undefined;
  challenge: string | undefined;
  nonce: string | undefined;
}

const now = () => Math.floor(Date.now() / 1000);

describe('DPoP (RFC 9449): attacks on a dpop-policy server, with the real issuer', () => {
  let issuer: TestIssuer;
  let api: TestApi;
  let apiUrl: string;
  let key: DpopKey;
  let thief: DpopKey;
  let token: string;
  let publicJwk: JWK;

  beforeAll(async () => {
    issuer = await startTestIssuer({ dpopRequireNonce: true });
    api = await startDpopApi(issuer, { policy: 'dpop', callers: [{ asn: 64502, policy: 'bearer' }] });
    apiUrl = api.baseUrl;
    key = await DpopKey.generate();
    thief = await DpopKey.generate();
    token = await issuer.tokenSource('admin64501', apiUrl, key).token();
    publicJwk = await exportJWK(key.keyPair.publicKey);
  });
  afterAll(async () => {
    await api?.stop();
    await issuer?.stop();
  });

  /** One request with exactly these headers (repeated `dpop` entries are sent as separate fields). */
  async function send(
    method: string,
    path: string,
    options: { authorization?: string; proofs?: string[]; body?: unknown; base?: string } = {},
  ): Promise<Sent> {
    const headers: string[] = ['accept', 'application/json'];
    if (options.authorization !== undefined) headers.push('authorization', options.authorization);
    for (const proof of options.proofs ?? []) headers.push('dpop', proof);
    if (options.body !== undefined) headers.push('content-type', 'application/json');
    const response = await request(`${options.base ?? api.baseUrl}${path}`, {
      method: method as 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.body.text();
    const body = text === '' ? undefined : (JSON.parse(text) as unknown);
    const header = (name: string) => {
      const value = response.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };
    return {
      status: response.statusCode,
      body,
      code: (body as ErrorBody | undefined)?.errors?.[0]?.code,
      challenge: header('www-authenticate'),
      nonce: header('dpop-nonce'),
    };
  }

  /** A proof signed by `key` unless told otherwise, for POST /sessions with `token`, every claim overridable. */
  async function forge(
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    signer: Parameters<SignJWT['sign']>[0] = key.keyPair.privateKey,
  ): Promise<string> {
    return new SignJWT({
      htm: 'POST',
      htu: `${apiUrl}/sessions`,
      iat: now(),
      jti: randomUUID(),
      ath: tokenDigest(token),
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk, ...header } as never)
      .sign(signer);
  }

  const post = (proofs: string[], authorization = `DPoP ${token}`) =>
    send('POST', '/sessions', { authorization, proofs, body: { sessions: [ATTACK_SESSION] } });

  /** What the legitimate holder sees: the attack session must never be there. */
  async function attackSessionExists(): Promise<boolean> {
    const listed = await send('GET', '/sessions?asn=64501', {
      authorization: `DPoP ${token}`,
      proofs: [await key.proof('GET', `${apiUrl}/sessions`, token)],
    });
    expect(listed.status).toBe(200);
    return JSON.stringify(listed.body).includes(ATTACK_SESSION.peer_ip);
  }

  test('the issuer binds the token to the key it was asked with (cnf.jkt), a JWT access token for our API', () => {
    expect(decodeProtectedHeader(token).typ).toBe('at+jwt');
    const claims = decodeJwt(token) as { cnf?: { jkt?: string }; aud?: unknown };
    expect(claims.cnf?.jkt).toBe(key.thumbprint);
    expect(claims.aud).toBe(apiUrl);
  });

  const attacks: {
    name: string;
    attempt: () => Promise<Sent>;
    code: string;
    challenge: 'invalid_token' | 'invalid_dpop_proof';
  }[] = [
    {
      name: 'a stolen DPoP-bound token used as a bearer token',
      attempt: () => post([], `Bearer ${token}`),
      code: 'DPOP_SCHEME_REQUIRED',
      challenge: 'invalid_token',
    },
    {
      name: 'a stolen token used as bearer even with a proof alongside',
      attempt: async () => post([await forge()], `Bearer ${token}`),
      code: 'DPOP_SCHEME_REQUIRED',
      challenge: 'invalid_token',
    },
    {
      name: "a stolen token with a proof signed by the thief's own key",
      attempt: async () => post([await thief.proof('POST', `${apiUrl}/sessions`, token)]),
      code: 'DPOP_KEY_MISMATCH',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: "a proof carrying the holder's jwk but signed by another key",
      attempt: async () => post([await forge({}, {}, thief.keyPair.privateKey)]),
      code: 'DPOP_PROOF_INVALID',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'a proof for another URL of this API',
      attempt: async () => post([await forge({ htu: `${apiUrl}/locations` })]),
      code: 'DPOP_HTU_MISMATCH',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'a proof for the same path on another server (a proof captured by a fake peer, T2)',
      attempt: async () => post([await forge({ htu: 'https://peering.example.org/v0.1/sessions' })]),
      code: 'DPOP_HTU_MISMATCH',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'a proof for another method',
      attempt: async () => post([await forge({ htm: 'GET' })]),
      code: 'DPOP_HTM_MISMATCH',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'an old proof (iat two minutes ago)',
      attempt: async () => post([await forge({ iat: now() - 120 })]),
      code: 'DPOP_IAT_OUT_OF_WINDOW',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'a proof issued in the future (iat in two minutes)',
      attempt: async () => post([await forge({ iat: now() + 120 })]),
      code: 'DPOP_IAT_OUT_OF_WINDOW',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'a proof without ath',
      attempt: async () => post([await forge({ ath: undefined })]),
      code: 'DPOP_ATH_MISMATCH',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'a proof whose ath is the hash of another token',
      attempt: async () => post([await forge({ ath: tokenDigest(`${token}x`) })]),
      code: 'DPOP_ATH_MISMATCH',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'a proof whose jwk holds the private key',
      attempt: async () => {
        const { privateKey } = await import('jose').then((jose) =>
          jose.generateKeyPair('ES256', { extractable: true }),
        );
        const privateJwk = await exportJWK(privateKey);
        return post([await forge({}, { jwk: privateJwk }, privateKey)]);
      },
      code: 'DPOP_JWK_INVALID',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'a proof typed jwt instead of dpop+jwt',
      attempt: async () => post([await forge({}, { typ: 'JWT' })]),
      code: 'DPOP_TYP_INVALID',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'an unsigned proof (alg none)',
      attempt: async () => {
        const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const header = part({ alg: 'none', typ: 'dpop+jwt', jwk: publicJwk });
        const payload = part({
          htm: 'POST',
          htu: `${apiUrl}/sessions`,
          iat: now(),
          jti: randomUUID(),
          ath: tokenDigest(token),
        });
        return post([`${header}.${payload}.`]);
      },
      code: 'DPOP_ALG_NOT_ALLOWED',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'a proof MACed with HS256',
      attempt: async () => post([await forge({}, { alg: 'HS256' }, new Uint8Array(32).fill(7))]),
      code: 'DPOP_ALG_NOT_ALLOWED',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'no DPoP header',
      attempt: () => post([]),
      code: 'DPOP_PROOF_MISSING',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'two DPoP headers',
      attempt: async () => post([await forge(), await forge()]),
      code: 'DPOP_PROOF_MULTIPLE',
      challenge: 'invalid_dpop_proof',
    },
    {
      name: 'a DPoP header that is no JWT',
      attempt: () => post(['not-a-proof']),
      code: 'DPOP_PROOF_INVALID',
      challenge: 'invalid_dpop_proof',
    },
  ];

  test.each(attacks)('refused: $name ($code)', async ({ attempt, code, challenge }) => {
    const answer = await attempt();
    expect(answer.status).toBe(401);
    expect(answer.code).toBe(code);
    expect(answer.challenge).toMatch(new RegExp(`^DPoP .*error="${challenge}"`));
    expect(answer.challenge).toContain('algs="ES256');
    expect(await attackSessionExists()).toBe(false);
  });

  test('refused: a captured proof replayed with its token (DPOP_JTI_REPLAYED), after its first use', async () => {
    const proof = await forge();
    // First use: a request the policy refuses (no session in it), so the proof is spent and nothing written.
    const first = await send('POST', '/sessions', {
      authorization: `DPoP ${token}`,
      proofs: [proof],
      body: { sessions: [{ ...ATTACK_SESSION, peer_ip: '2001:db8:1::1' }] },
    });
    expect(first.status).toBe(400);
    const replay = await post([proof]);
    expect(replay.status).toBe(401);
    expect(replay.code).toBe('DPOP_JTI_REPLAYED');
    expect(replay.challenge).toMatch(/^DPoP .*error="invalid_dpop_proof"/);
    expect(await attackSessionExists()).toBe(false);
  });

  test('refused: a proof made for the Host header the request carries, not our public apiUrl', async () => {
    const response = await request(`${api.baseUrl}/sessions`, {
      method: 'POST',
      headers: {
        host: 'peering.example.org',
        authorization: `DPoP ${token}`,
        dpop: await forge({ htu: 'http://peering.example.org/v0.1/sessions' }),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ sessions: [ATTACK_SESSION] }),
    });
    const body = (await response.body.json()) as ErrorBody;
    expect(response.statusCode).toBe(401);
    expect(body.errors[0]?.code).toBe('DPOP_HTU_MISMATCH');
    expect(await attackSessionExists()).toBe(false);
  });

  test('refused: a plain bearer token of a dpop-policy caller, sent as Bearer or as DPoP', async () => {
    const bearer = await issuer.jwt('admin64501', apiUrl);
    expect(decodeJwt(bearer).cnf).toBeUndefined();
    const asBearer = await post([], `Bearer ${bearer}`);
    expect([asBearer.status, asBearer.code]).toEqual([401, 'DPOP_SCHEME_REQUIRED']);
    const asDpop = await post([await forge({ ath: tokenDigest(bearer) })], `DPoP ${bearer}`);
    expect([asDpop.status, asDpop.code]).toEqual([401, 'DPOP_TOKEN_NOT_BOUND']);
    expect(asDpop.challenge).toMatch(/^DPoP .*error="invalid_token"/);
    expect(await attackSessionExists()).toBe(false);
  });

  test('happy path by hand: GET and POST with a fresh proof each', async () => {
    const listed = await send('GET', '/sessions?asn=64501', {
      authorization: `DPoP ${token}`,
      proofs: [await key.proof('GET', `${apiUrl}/sessions?asn=64501`, token)],
    });
    expect(listed.status).toBe(200);
    const created = await send('POST', '/sessions', {
      authorization: `DPoP ${token}`,
      proofs: [await key.proof('POST', `${apiUrl}/sessions`, token)],
      body: { sessions: [EXAMPLE_SESSION] },
    });
    expect(created.status).toBe(200);
    const id = (created.body as { sessions: { session_id: string }[] }).sessions[0]!.session_id;
    const read = await send('GET', `/sessions/${id}`, {
      authorization: `DPoP ${token}`,
      proofs: [await key.proof('GET', `${apiUrl}/sessions/${id}`, token)],
    });
    expect(read.status).toBe(200);
  });

  test('happy path through PeeringApiClient: a DPoP token source, a proof per request', async () => {
    const client = new PeeringApiClient({
      apiUrl,
      auth: issuer.tokenSource('admin64501', apiUrl, key),
      localAsns: [64501],
    });
    try {
      await requestReadAndList(client);
    } finally {
      await client.close();
    }
  });

  test('a bearer-policy caller (AS64502) still works with a plain bearer token', async () => {
    const bearer = await issuer.jwt('admin64502', apiUrl);
    const listed = await send('GET', '/sessions?asn=64502', { authorization: `Bearer ${bearer}` });
    expect(listed.status).toBe(200);
    const created = await send('POST', '/sessions', {
      authorization: `Bearer ${bearer}`,
      body: { sessions: [{ ...EXAMPLE_SESSION, peer_asn: 64502, peer_ip: '192.0.2.3' }] },
    });
    expect(created.status).toBe(200);
    expect((created.body as { errors: unknown[] }).errors).toEqual([]);
  });

  test('a bearer-policy caller that holds a bound token must still use it with its proof (no downgrade)', async () => {
    const key64502 = await DpopKey.generate();
    const bound = await issuer.tokenSource('admin64502', apiUrl, key64502).token();
    const asBearer = await send('GET', '/sessions?asn=64502', { authorization: `Bearer ${bound}` });
    expect([asBearer.status, asBearer.code]).toEqual([401, 'DPOP_SCHEME_REQUIRED']);
    const withProof = await send('GET', '/sessions?asn=64502', {
      authorization: `DPoP ${bound}`,
      proofs: [await key64502.proof('GET', `${apiUrl}/sessions`, bound)],
    });
    expect(withProof.status).toBe(200);
  });

  // Last: proves the attacks above were refused for their proofs, not because the session could not be had.
  test('the session every attack asked for is granted to its holder with a proper proof', async () => {
    const created = await send('POST', '/sessions', {
      authorization: `DPoP ${token}`,
      proofs: [await key.proof('POST', `${apiUrl}/sessions`, token)],
      body: { sessions: [ATTACK_SESSION] },
    });
    expect(created.status).toBe(200);
    expect(await attackSessionExists()).toBe(true);
  });
});

describe('DPoP server nonces (RFC 9449 §8)', () => {
  let issuer: TestIssuer;
  let api: TestApi;
  let apiUrl: string;
  let key: DpopKey;
  let token: string;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    api = await startDpopApi(issuer, { policy: 'dpop', dpop: { nonces: true } });
    apiUrl = api.baseUrl;
    key = await DpopKey.generate();
    token = await issuer.tokenSource('admin64501', apiUrl, key).token();
  });
  afterAll(async () => {
    await api?.stop();
    await issuer?.stop();
  });

  async function get(proof: string) {
    const response = await request(`${api.baseUrl}/sessions?asn=64501`, {
      headers: { authorization: `DPoP ${token}`, dpop: proof },
    });
    const body = (await response.body.json()) as ErrorBody;
    return {
      status: response.statusCode,
      code: body.errors?.[0]?.code,
      challenge: response.headers['www-authenticate'] as string | undefined,
      nonce: response.headers['dpop-nonce'] as string | undefined,
    };
  }

  test('a proof without the nonce gets use_dpop_nonce and the nonce; a forged one too; the given one passes', async () => {
    const missing = await get(await key.proof('GET', `${apiUrl}/sessions`, token));
    expect(missing.status).toBe(401);
    expect(missing.code).toBe('DPOP_NONCE_REQUIRED');
    expect(missing.challenge).toMatch(/^DPoP .*error="use_dpop_nonce"/);
    expect(missing.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // A nonce we never issued (forged, or stale beyond the previous slot) is as good as none.
    key.rememberNonce(apiUrl, 'A'.repeat(43));
    const withForged = await get(await key.proof('GET', `${apiUrl}/sessions`, token));
    expect([withForged.status, withForged.code]).toEqual([401, 'DPOP_NONCE_REQUIRED']);

    key.rememberNonce(apiUrl, missing.nonce);
    const good = await get(await key.proof('GET', `${apiUrl}/sessions`, token));
    expect(good.status).toBe(200);
  });

  test('PeeringApiClient retries once with the nonce and keeps it for the next requests', async () => {
    const fresh = await DpopKey.generate();
    const client = new PeeringApiClient({
      apiUrl,
      auth: issuer.tokenSource('admin64501', apiUrl, fresh),
      localAsns: [64501],
    });
    try {
      const seen: string[] = [];
      for await (const session of client.listSessions({ asn: 64501 })) seen.push(session.sessionId);
      expect(seen).toEqual(expect.any(Array));
      // The nonce is remembered: the next proof carries it without a 401 first.
      const proof = await fresh.proof('GET', `${apiUrl}/sessions`);
      expect(decodeJwt(proof).nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    } finally {
      await client.close();
    }
  });
});
