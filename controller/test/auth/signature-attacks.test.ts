import { request } from 'undici';
import { DpopKey } from '../../src/auth/dpop-key.js';
import { contentDigest, requiredComponents, signRequest } from '../../src/auth/http-signature.js';
import { PeeringApiClient } from '../../src/client/client.js';
import { EXAMPLE_SESSION, type TestApi } from '../support/api-server.js';
import {
  ATTACK_SESSION,
  HAPPY_SESSION,
  requestReadAndList,
  startDpopApi,
  type ErrorBody,
} from '../support/dpop-api.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';

// RFC 9421 + RFC 9530 end to end: the real issuer binds tokens to the client's key, our real server holds
// AS64501 to `dpop+signature` (AS64500 to `dpop`, AS64502 to `bearer`). Every attack carries a valid token and a
// valid DPoP proof, so that only the signature or the digest can stop it: a 401 with its own code, the DPoP
// challenge with error="invalid_request" and Accept-Signature, and nothing written.

interface Sent {
  status: number;
  body: unknown;
  code: string | undefined;
  challenge: string | undefined;
  acceptSignature: string | undefined;
}

/** How a hand-made request is signed: by default, as our client signs it. */
interface Signing {
  /** The components the signature covers; default: what the request must have covered. */
  components?: string[];
  keyid?: string;
  signer?: DpopKey;
  /** `created`, in ms since the epoch. */
  created?: number;
  nonce?: string;
  /** What the signature says the method and target URI are. */
  method?: string;
  targetUri?: string;
  /** The body the signature (and its Content-Digest) is for, when not the one sent. */
  signedBody?: string;
  /** No Content-Digest field at all. */
  noDigest?: boolean;
}

/** What is sent besides: fields dropped or replaced after signing, and the scheme. */
interface Tampering {
  drop?: string[];
  replace?: Record<string, string>;
  /** Sent without any signature fields (a DPoP-only client). */
  unsigned?: boolean;
}

describe('HTTP Message Signatures (RFC 9421, RFC 9530): attacks on a dpop+signature caller', () => {
  let issuer: TestIssuer;
  let api: TestApi;
  let apiUrl: string;
  let key: DpopKey;
  let thief: DpopKey;
  let token: string;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    api = await startDpopApi(issuer, {
      policy: 'dpop',
      callers: [
        { asn: 64501, policy: 'dpop+signature' },
        { asn: 64502, policy: 'bearer' },
      ],
    });
    apiUrl = api.baseUrl;
    key = await DpopKey.generate();
    thief = await DpopKey.generate();
    token = await issuer.tokenSource('admin64501', apiUrl, key).token();
  });
  afterAll(async () => {
    await api?.stop();
    await issuer?.stop();
  });

  /** One request by the AS64501 holder: a fresh proof, signed as `signing` says, then tampered with. */
  async function send(
    method: string,
    path: string,
    body?: unknown,
    signing: Signing = {},
    tampering: Tampering = {},
  ): Promise<Sent> {
    const url = `${apiUrl}${path}`;
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `DPoP ${token}`,
      dpop: await key.proof(method, url, token),
    };
    const signedBody = signing.signedBody ?? text;
    if (signedBody !== undefined) {
      headers['content-type'] = 'application/json';
      if (!signing.noDigest) headers['content-digest'] = contentDigest(signedBody);
    }
    const lookup = (name: string) => headers[name];
    if (!tampering.unsigned) {
      const signer = signing.signer ?? key;
      Object.assign(
        headers,
        await signRequest(
          { method: signing.method ?? method, targetUri: signing.targetUri ?? url, headers: lookup },
          signing.components ?? requiredComponents(lookup, signedBody !== undefined),
          signing.keyid ?? key.thumbprint,
          (data) => signer.sign(data),
          { now: signing.created, nonce: signing.nonce },
        ),
      );
    }
    for (const name of tampering.drop ?? []) delete headers[name];
    Object.assign(headers, tampering.replace ?? {});
    return sendRaw(method, url, headers, text);
  }

  async function sendRaw(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<Sent> {
    const response = await request(url, { method: method as 'GET', headers, body });
    const raw = await response.body.text();
    const parsed = raw === '' ? undefined : (JSON.parse(raw) as unknown);
    return {
      status: response.statusCode,
      body: parsed,
      code: (parsed as ErrorBody | undefined)?.errors?.[0]?.code,
      challenge: response.headers['www-authenticate'] as string | undefined,
      acceptSignature: response.headers['accept-signature'] as string | undefined,
    };
  }

  const postAttack = (signing: Signing = {}, tampering: Tampering = {}, body: unknown = [ATTACK_SESSION]) =>
    send('POST', '/sessions', { sessions: body }, signing, tampering);

  /** What the legitimate holder sees, through a properly signed GET: the attack session must never be there. */
  async function attackSessionExists(): Promise<boolean> {
    const listed = await send('GET', '/sessions?asn=64501');
    expect(listed.status).toBe(200);
    return JSON.stringify(listed.body).includes(ATTACK_SESSION.peer_ip);
  }

  const innocent = JSON.stringify({ sessions: [{ ...ATTACK_SESSION, peer_ip: '2001:db8:1::99' }] });
  const attacks: { name: string; attempt: () => Promise<Sent>; code: string }[] = [
    {
      name: 'a body altered after signing (peer_ip changed), the original Content-Digest and signature',
      attempt: () => postAttack({ signedBody: innocent }),
      code: 'CONTENT_DIGEST_MISMATCH',
    },
    {
      name: 'a body altered, its Content-Digest recomputed, the old signature kept',
      attempt: () =>
        postAttack(
          { signedBody: innocent },
          { replace: { 'content-digest': contentDigest(JSON.stringify({ sessions: [ATTACK_SESSION] })) } },
        ),
      code: 'SIGNATURE_INVALID',
    },
    {
      name: 'a covered header (content-type) dropped after signing',
      attempt: () => postAttack({}, { drop: ['content-type'] }),
      code: 'SIGNATURE_INVALID',
    },
    {
      name: 'a signature that does not cover content-digest, which is present',
      attempt: () =>
        postAttack({ components: ['@method', '@target-uri', 'authorization', 'dpop', 'content-type'] }),
      code: 'SIGNATURE_COMPONENTS_MISSING',
    },
    {
      name: 'a signature that does not cover content-type, which is present',
      attempt: () =>
        postAttack({ components: ['@method', '@target-uri', 'authorization', 'dpop', 'content-digest'] }),
      code: 'SIGNATURE_COMPONENTS_MISSING',
    },
    {
      name: 'a signature that does not cover the DPoP proof',
      attempt: () =>
        postAttack({
          components: ['@method', '@target-uri', 'authorization', 'content-digest', 'content-type'],
        }),
      code: 'SIGNATURE_COMPONENTS_MISSING',
    },
    {
      name: 'a POST with a body, signed, without any Content-Digest',
      attempt: () =>
        postAttack({
          noDigest: true,
          components: ['@method', '@target-uri', 'authorization', 'dpop', 'content-type'],
        }),
      code: 'CONTENT_DIGEST_MISSING',
    },
    {
      name: "a signature by another key, with that key's keyid",
      attempt: () => postAttack({ signer: thief, keyid: thief.thumbprint }),
      code: 'SIGNATURE_KEY_MISMATCH',
    },
    {
      name: 'a signature by another key, with our keyid',
      attempt: () => postAttack({ signer: thief }),
      code: 'SIGNATURE_INVALID',
    },
    {
      name: 'a signature created two minutes in the future',
      attempt: () => postAttack({ created: Date.now() + 120_000 }),
      code: 'SIGNATURE_CREATED_OUT_OF_WINDOW',
    },
    {
      name: 'a signature created two minutes ago',
      attempt: () => postAttack({ created: Date.now() - 120_000 }),
      code: 'SIGNATURE_CREATED_OUT_OF_WINDOW',
    },
    {
      name: 'no Signature nor Signature-Input (a downgrade to DPoP only)',
      attempt: () => postAttack({}, { unsigned: true }),
      code: 'SIGNATURE_MISSING',
    },
    {
      name: 'Signature-Input without Signature',
      attempt: () => postAttack({}, { drop: ['signature'] }),
      code: 'SIGNATURE_MISSING',
    },
    {
      name: 'Signature without Signature-Input',
      attempt: () => postAttack({}, { drop: ['signature-input'] }),
      code: 'SIGNATURE_MISSING',
    },
    {
      name: 'a signature over another @target-uri of this API',
      attempt: () => postAttack({ targetUri: `${apiUrl}/locations` }),
      code: 'SIGNATURE_INVALID',
    },
    {
      name: 'a signature over the same path on another server',
      attempt: () => postAttack({ targetUri: 'https://peering.example.org/v0.1/sessions' }),
      code: 'SIGNATURE_INVALID',
    },
    {
      name: 'a signature over another method',
      attempt: () => postAttack({ method: 'DELETE' }),
      code: 'SIGNATURE_INVALID',
    },
  ];

  test.each(attacks)('refused: $name ($code)', async ({ attempt, code }) => {
    const answer = await attempt();
    expect(answer.status).toBe(401);
    expect(answer.code).toBe(code);
    expect(answer.challenge).toMatch(/^DPoP .*error="invalid_request"/);
    expect(answer.acceptSignature).toMatch(/^sig1=\("@method" "@target-uri" "authorization" "dpop"/);
    expect(await attackSessionExists()).toBe(false);
  });

  test('refused: two signatures, even when one of them is good (SIGNATURE_INVALID)', async () => {
    const url = `${apiUrl}/sessions`;
    const text = JSON.stringify({ sessions: [ATTACK_SESSION] });
    const headers: Record<string, string> = {
      authorization: `DPoP ${token}`,
      dpop: await key.proof('POST', url, token),
      'content-type': 'application/json',
      'content-digest': contentDigest(text),
    };
    const lookup = (name: string) => headers[name];
    const signed = await signRequest(
      { method: 'POST', targetUri: url, headers: lookup },
      requiredComponents(lookup, true),
      key.thumbprint,
      (data) => key.sign(data),
    );
    headers['signature-input'] =
      `${signed['signature-input']}, sig2=("@method");created=1;keyid="x";nonce="y"`;
    headers.signature = `${signed.signature}, sig2=:AAAA:`;
    const answer = await sendRaw('POST', url, headers, text);
    expect([answer.status, answer.code]).toEqual([401, 'SIGNATURE_INVALID']);
    expect(await attackSessionExists()).toBe(false);
  });

  test('refused: a signature nonce used before, on a new request with a fresh proof (SIGNATURE_NONCE_REPLAYED)', async () => {
    const nonce = 'replayed-nonce-0001';
    const first = await send('GET', '/sessions?asn=64501', undefined, { nonce });
    expect(first.status).toBe(200);
    const replay = await postAttack({ nonce });
    expect([replay.status, replay.code]).toEqual([401, 'SIGNATURE_NONCE_REPLAYED']);
    expect(replay.challenge).toMatch(/^DPoP .*error="invalid_request"/);
    expect(await attackSessionExists()).toBe(false);
  });

  test('refused: a downgrade to bearer, with the bound token or with a plain one (DPOP_SCHEME_REQUIRED)', async () => {
    const text = JSON.stringify({ sessions: [ATTACK_SESSION] });
    const url = `${apiUrl}/sessions`;
    const headers = { 'content-type': 'application/json', 'content-digest': contentDigest(text) };
    const bound = await sendRaw('POST', url, { ...headers, authorization: `Bearer ${token}` }, text);
    expect([bound.status, bound.code]).toEqual([401, 'DPOP_SCHEME_REQUIRED']);
    const plain = await issuer.jwt('admin64501', apiUrl);
    const unbound = await sendRaw('POST', url, { ...headers, authorization: `Bearer ${plain}` }, text);
    expect([unbound.status, unbound.code]).toEqual([401, 'DPOP_SCHEME_REQUIRED']);
    expect(await attackSessionExists()).toBe(false);
  });

  test('refused: a GET carrying a signed body the server never reads (CONTENT_DIGEST_MISMATCH)', async () => {
    const answer = await send('GET', '/sessions?asn=64501', { sessions: [] });
    expect([answer.status, answer.code]).toEqual([401, 'CONTENT_DIGEST_MISMATCH']);
  });

  test('refused: a batch DELETE whose body was altered after signing; the session stays', async () => {
    const created = await send('POST', '/sessions', {
      sessions: [{ ...EXAMPLE_SESSION, local_ip: '192.0.2.1', peer_ip: '192.0.2.2' }],
    });
    expect(created.status).toBe(200);
    const id = (created.body as { sessions: { session_id: string }[] }).sessions[0]!.session_id;
    const other = '00000000-0000-4000-8000-000000000000';
    const altered = await send(
      'DELETE',
      '/sessions',
      { sessions: [{ session_id: id }] },
      { signedBody: JSON.stringify({ sessions: [{ session_id: other }] }) },
    );
    expect([altered.status, altered.code]).toEqual([401, 'CONTENT_DIGEST_MISMATCH']);
    const read = await send('GET', `/sessions/${id}`);
    expect(read.status).toBe(200);
  });

  test('happy path through PeeringApiClient: POST, GET, list, DELETE and batch DELETE, each signed', async () => {
    const client = new PeeringApiClient({
      apiUrl,
      auth: issuer.tokenSource('admin64501', apiUrl, key),
      localAsns: [64501],
    });
    try {
      const id = await requestReadAndList(client);
      await client.deleteSession(id);
      const again = await client.requestSessions([HAPPY_SESSION]);
      const batch = await client.deleteSessions([again.sessions[0]!.sessionId]);
      expect(batch).toBeDefined();
    } finally {
      await client.close();
    }
  });

  test('a client that does not sign is refused for this caller (SIGNATURE_MISSING)', async () => {
    const client = new PeeringApiClient({
      apiUrl,
      auth: issuer.tokenSource('admin64501', apiUrl, key),
      localAsns: [64501],
      signRequests: false,
      retry: { attempts: 1 },
    });
    try {
      await expect(client.getSession('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
        code: 'SIGNATURE_MISSING',
      });
    } finally {
      await client.close();
    }
  });

  test('a dpop caller (AS64500) is unaffected: DPoP alone passes, and a signature alongside is ignored', async () => {
    const key64500 = await DpopKey.generate();
    const bound = await issuer.tokenSource('admin64500', apiUrl, key64500).token();
    const url = `${apiUrl}/locations?asn=64500`;
    const unsigned = await sendRaw('GET', url, {
      authorization: `DPoP ${bound}`,
      dpop: await key64500.proof('GET', url, bound),
    });
    expect(unsigned.status).toBe(200);
    const client = new PeeringApiClient({ apiUrl, auth: issuer.tokenSource('admin64500', apiUrl, key64500) });
    try {
      const locations: unknown[] = [];
      for await (const location of client.listLocations({ asn: 64500 })) locations.push(location);
      expect(locations.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  test('a bearer caller (AS64502) is unaffected: a plain bearer token creates a session', async () => {
    const bearer = await issuer.jwt('admin64502', apiUrl);
    const created = await sendRaw(
      'POST',
      `${apiUrl}/sessions`,
      { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      JSON.stringify({ sessions: [{ ...EXAMPLE_SESSION, peer_asn: 64502, peer_ip: '192.0.2.3' }] }),
    );
    expect(created.status).toBe(200);
    expect((created.body as { errors: unknown[] }).errors).toEqual([]);
  });

  // Last: proves the attacks above were refused for their signatures, not because the session could not be had.
  test('the session every attack asked for is granted to its holder with a proper signature', async () => {
    const created = await postAttack();
    expect(created.status).toBe(200);
    expect(await attackSessionExists()).toBe(true);
  });
});
