import {
  constants,
  createHash,
  generateKeyPairSync,
  randomUUID,
  sign,
  type KeyPairKeyObjectResult,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateProof } from 'dpop';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose';
import { authPolicyFor } from '../../src/auth/auth-policy.js';
import { DpopKey } from '../../src/auth/dpop-key.js';
import { DpopGate, DpopNonces, normaliseHtu } from '../../src/auth/dpop-proof.js';
import { MemoryReplayCache } from '../../src/auth/dpop-replay-cache.js';
import type { Identity } from '../../src/auth/identity.js';
import { parseConfig } from '../../src/config/config.js';
import { startTestIssuer } from '../support/issuer.js';

const BASE_CONFIG = {
  asns: [64500],
  apiUrl: 'https://peering.example.net/v0.1',
  peeringdb: { dataDir: 'examples/peeringdb' },
};

const identity = (...asns: number[]): Identity => ({
  subject: 's',
  issuer: 'i',
  networks: new Map(asns.map((asn) => [asn, 15])),
});

describe('auth policy configuration', () => {
  test('bearer by default, dpop globally or per caller ASN', () => {
    expect(parseConfig(BASE_CONFIG).auth.policy).toBe('bearer');
    const config = parseConfig({
      ...BASE_CONFIG,
      auth: { policy: 'dpop', callers: [{ asn: 64501, policy: 'bearer' }], dpop: { proofWindow: '30s' } },
    });
    expect(config.auth.policy).toBe('dpop');
    expect(config.auth.dpop.proofWindow).toBe(30_000);
    expect(config.auth.dpop.algorithms).toEqual(['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256']);
  });

  test('dpop+signature is accepted globally and per caller; an unknown policy is refused', () => {
    expect(parseConfig({ ...BASE_CONFIG, auth: { policy: 'dpop+signature' } }).auth.policy).toBe(
      'dpop+signature',
    );
    const perCaller = parseConfig({
      ...BASE_CONFIG,
      auth: { callers: [{ asn: 64501, policy: 'dpop+signature' }] },
    });
    expect(perCaller.auth.callers).toEqual([{ asn: 64501, policy: 'dpop+signature' }]);
    expect(() => parseConfig({ ...BASE_CONFIG, auth: { policy: 'mtls' } })).toThrow(/auth\.policy/);
  });

  test('nonces shared by replicas by default; replica-scoped nonces need nonces on', () => {
    expect(parseConfig(BASE_CONFIG).auth.dpop.nonceScope).toBe('shared');
    const replica = { ...BASE_CONFIG, auth: { dpop: { nonces: true, nonceScope: 'replica' as const } } };
    expect(parseConfig(replica).auth.dpop.nonceScope).toBe('replica');
    expect(() => parseConfig({ ...BASE_CONFIG, auth: { dpop: { nonceScope: 'replica' as const } } })).toThrow(
      'auth.dpop.nonceScope: nonceScope replica needs nonces: true',
    );
  });

  test('a caller listed twice, or a symmetric proof algorithm, is refused', () => {
    expect(() =>
      parseConfig({
        ...BASE_CONFIG,
        auth: {
          callers: [
            { asn: 64501, policy: 'dpop' },
            { asn: 64501, policy: 'bearer' },
          ],
        },
      }),
    ).toThrow(/AS64501 is listed twice/);
    expect(() => parseConfig({ ...BASE_CONFIG, auth: { dpop: { algorithms: ['HS256'] } } })).toThrow(
      /auth\.dpop\.algorithms/,
    );
  });
});

describe('authPolicyFor', () => {
  const policies = {
    policy: 'dpop' as const,
    byAsn: new Map([
      [64501, 'bearer' as const],
      [64503, 'bearer' as const],
    ]),
  };

  test('an exception of the caller ASN, else the global policy', () => {
    expect(authPolicyFor(identity(64501), policies)).toBe('bearer');
    expect(authPolicyFor(identity(64502), policies)).toBe('dpop');
    expect(authPolicyFor(identity(), policies)).toBe('dpop');
  });

  test('a token holding several networks is held to the strictest of theirs', () => {
    expect(authPolicyFor(identity(64501, 64503), policies)).toBe('bearer');
    expect(authPolicyFor(identity(64501, 64502), policies)).toBe('dpop');
    const laxGlobal = { policy: 'bearer' as const, byAsn: new Map([[64502, 'dpop' as const]]) };
    expect(authPolicyFor(identity(64501, 64502), laxGlobal)).toBe('dpop');
  });
});

describe('MemoryReplayCache', () => {
  test('refuses a key seen before until it expires, and stays within its bound', async () => {
    let now = 1_000_000;
    const cache = new MemoryReplayCache({ maxEntries: 3, now: () => now });
    expect(await cache.firstUse('a', now + 60_000)).toBe(true);
    expect(await cache.firstUse('a', now + 60_000)).toBe(false);
    for (const key of ['b', 'c', 'd', 'e']) expect(await cache.firstUse(key, now + 60_000)).toBe(true);
    expect(cache.size).toBe(3);
    now += 61_000;
    expect(await cache.firstUse('e', now + 60_000)).toBe(true);
    expect(cache.size).toBe(1);
  });
});

describe('DpopNonces', () => {
  test('the current slot passes, the previous one passes with a fresh nonce to hand out, older ones fail', () => {
    let now = 10 * 300_000;
    const secret = Buffer.alloc(32, 1);
    const nonces = new DpopNonces(secret, { lifetimeMs: 300_000, now: () => now });
    const first = nonces.current();
    expect(nonces.verdict(first)).toBe('current');
    now += 300_000;
    expect(nonces.verdict(first)).toBe('previous');
    now += 300_000;
    expect(nonces.verdict(first)).toBe('invalid');
    expect(nonces.verdict(undefined)).toBe('invalid');
    // Replicas sharing the page-token key agree; another key does not.
    expect(new DpopNonces(secret, { now: () => now }).current()).toBe(nonces.current());
    expect(new DpopNonces(Buffer.alloc(32, 2), { now: () => now }).current()).not.toBe(nonces.current());
  });
});

describe('normaliseHtu', () => {
  test('compares without query and fragment, case-insensitive scheme and host, default port', () => {
    expect(normaliseHtu('HTTPS://Peering.Example.NET:443/v0.1/sessions?asn=1#x')).toBe(
      normaliseHtu('https://peering.example.net/v0.1/sessions'),
    );
    expect(normaliseHtu('https://peering.example.net/v0.1/Sessions')).not.toBe(
      normaliseHtu('https://peering.example.net/v0.1/sessions'),
    );
    expect(normaliseHtu('not a url')).not.toBe(normaliseHtu('https://peering.example.net/'));
  });
});

describe('DpopKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dpop-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('made on first use as an ES256 private JWK with mode 0600, the same key on the next load', async () => {
    const path = join(dir, 'keys', 'as64501.jwk');
    const made = await DpopKey.fromFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const jwk = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(jwk.d).toBeDefined();
    const loaded = await DpopKey.fromFile(path);
    expect(loaded.thumbprint).toBe(made.thumbprint);
  });

  test('a key file others can read is refused, as is one that is no ES256 key', async () => {
    const path = join(dir, 'open.jwk');
    await DpopKey.fromFile(path);
    const { chmodSync } = await import('node:fs');
    chmodSync(path, 0o644);
    await expect(DpopKey.fromFile(path)).rejects.toThrow(/owner only/);
    const wrong = join(dir, 'wrong.jwk');
    writeFileSync(wrong, '{"kty":"oct","k":"AAAA"}', { mode: 0o600 });
    await expect(DpopKey.fromFile(wrong)).rejects.toThrow(/not an ES256 private JWK/);
  });

  test('a proof has htm, htu without query or fragment, iat, jti, ath and the public jwk only', async () => {
    const key = await DpopKey.generate();
    const proof = await key.proof('post', 'https://peering.example.net/v0.1/sessions?asn=1#f', 'tok');
    const claims = decodeJwt(proof);
    expect(claims).toMatchObject({ htm: 'POST', htu: 'https://peering.example.net/v0.1/sessions' });
    expect(typeof claims.iat).toBe('number');
    expect(typeof claims.jti).toBe('string');
    expect(claims.ath).toBe(createHash('sha256').update('tok').digest('base64url'));
    const header = JSON.parse(Buffer.from(proof.split('.')[0]!, 'base64url').toString()) as {
      typ: string;
      jwk: Record<string, unknown>;
    };
    expect(header.typ).toBe('dpop+jwt');
    expect(header.jwk.d).toBeUndefined();
    expect(claims.jti).not.toBe(decodeJwt(await key.proof('POST', 'https://x.example/a', 'tok')).jti);
  });
});

describe('the local issuer and DPoP nonces at its token endpoint', () => {
  test('asks for its nonce first (use_dpop_nonce) and binds the token once the proof carries it', async () => {
    const issuer = await startTestIssuer({ dpopRequireNonce: true });
    try {
      const audience = 'https://peering.example.net/v0.1';
      const key = await DpopKey.generate();
      // The issuer's refusal, as a client without nonce handling would see it.
      issuer.tokenSource('admin64501', audience); // registers the service client
      const endpoint = `${issuer.issuer}/token/`;
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'svc-admin64501',
        client_secret: 'secret-of-svc-admin64501-0123456789',
        resource: audience,
      });
      const refused = await fetch(endpoint, {
        method: 'POST',
        body: form,
        headers: { dpop: await generateProof(key.keyPair, endpoint, 'POST') },
      });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: string }).error).toBe('use_dpop_nonce');
      const nonce = refused.headers.get('dpop-nonce');
      expect(nonce).toBeTruthy();
      // Our token source goes through the same dance (openid-client retries once with the nonce).
      const token = await issuer.tokenSource('admin64501', audience, key).token();
      expect((decodeJwt(token).cnf as { jkt: string }).jkt).toBe(key.thumbprint);
    } finally {
      await issuer.stop();
    }
  });
});

// Proofs are verified with node:crypto on a cached KeyObject (not jose's WebCrypto path): every algorithm the gate
// may allow must verify, and keys or proofs that do not fit must still be refused. The proofs are signed here by
// hand (node:crypto's sign), so that a key jose would refuse to sign with (RSA 1024) can be tried too.
describe('DpopGate proof verification by algorithm', () => {
  const URL_ = 'https://peering.example.net/v0.1/sessions';
  const TOKEN = 'an-access-token';
  const SIGNING: Record<string, { hash: string | null; pss?: boolean }> = {
    ES256: { hash: 'sha256' },
    ES384: { hash: 'sha384' },
    EdDSA: { hash: null },
    Ed25519: { hash: null },
    PS256: { hash: 'sha256', pss: true },
    RS256: { hash: 'sha256' },
  };
  const KEYS: Record<string, () => KeyPairKeyObjectResult> = {
    ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    ES384: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    EdDSA: () => generateKeyPairSync('ed25519'),
    Ed25519: () => generateKeyPairSync('ed25519'),
    PS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
    RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
  };
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const proofOf = (
    alg: string,
    keys: KeyPairKeyObjectResult,
    patch: { header?: Record<string, unknown>; claims?: Record<string, unknown> } = {},
  ) => {
    const header = b64({
      typ: 'dpop+jwt',
      alg,
      jwk: keys.publicKey.export({ format: 'jwk' }),
      ...patch.header,
    });
    const claims = b64({
      htm: 'GET',
      htu: URL_,
      iat: Math.floor(Date.now() / 1000),
      jti: randomUUID(),
      ath: createHash('sha256').update(TOKEN).digest('base64url'),
      ...patch.claims,
    });
    const spec = SIGNING[alg]!;
    const signature = sign(
      spec.hash,
      Buffer.from(`${header}.${claims}`),
      spec.pss
        ? { key: keys.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
        : { key: keys.privateKey, dsaEncoding: 'ieee-p1363' },
    );
    return `${header}.${claims}.${signature.toString('base64url')}`;
  };
  const gateFor = () =>
    new DpopGate(
      { policy: 'dpop', byAsn: new Map() },
      {
        replayCache: new MemoryReplayCache(),
        algorithms: ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256'],
      },
    );
  const bound = async (keys: KeyPairKeyObjectResult): Promise<Identity> => ({
    ...identity(64501),
    boundKey: await calculateJwkThumbprint(keys.publicKey.export({ format: 'jwk' }) as JWK),
  });
  const check = async (gate: DpopGate, who: Identity, proof: string) =>
    gate.check(who, {
      method: 'GET',
      url: URL_,
      credentials: { scheme: 'dpop', token: TOKEN },
      proofs: [proof],
    });

  test.each(Object.keys(SIGNING))('a %s proof verifies', async (alg) => {
    const keys = KEYS[alg]!();
    await expect(check(gateFor(), await bound(keys), proofOf(alg, keys))).resolves.toMatchObject({
      proven: 'dpop',
    });
  });

  test('panva dpop signs Ed25519 keys as alg Ed25519 (RFC 9864), which the default list accepts', async () => {
    const keys = await generateKeyPair('Ed25519');
    const proof = await generateProof(keys, URL_, 'GET', undefined, TOKEN);
    expect(JSON.parse(Buffer.from(proof.split('.')[0]!, 'base64url').toString()).alg).toBe('Ed25519');
    const gate = new DpopGate(
      { policy: 'dpop', byAsn: new Map() },
      { replayCache: new MemoryReplayCache(), algorithms: parseConfig(BASE_CONFIG).auth.dpop.algorithms },
    );
    const who = {
      ...identity(64501),
      boundKey: await calculateJwkThumbprint(await exportJWK(keys.publicKey)),
    };
    await expect(check(gate, who, proof)).resolves.toMatchObject({ proven: 'dpop' });
  });

  test('a key that does not fit its alg, an altered payload and a crit header are refused; nothing used up', async () => {
    const gate = gateFor();
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await expect(check(gate, await bound(small), proofOf('RS256', small))).rejects.toMatchObject({
      code: 'DPOP_JWK_INVALID',
    });
    const p384 = KEYS.ES384!();
    await expect(check(gate, await bound(p384), proofOf('ES256', p384))).rejects.toMatchObject({
      code: 'DPOP_JWK_INVALID',
    });

    const keys = KEYS.ES256!();
    const who = await bound(keys);
    const good = proofOf('ES256', keys);
    const [h, p, s] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    await expect(check(gate, who, `${h}.${b64({ ...claims, htm: 'DELETE' })}.${s}`)).rejects.toMatchObject({
      code: 'DPOP_PROOF_INVALID',
      message: 'the signature of the proof does not verify with its jwk',
    });
    await expect(
      check(gate, who, proofOf('ES256', keys, { header: { crit: ['b64'], b64: false } })),
    ).rejects.toMatchObject({
      code: 'DPOP_PROOF_INVALID',
      message: 'the proof must not carry crit extensions',
    });
    await expect(check(gate, who, proofOf('ES256', keys, { claims: { htu: 1 } }))).rejects.toMatchObject({
      code: 'DPOP_PROOF_INVALID',
    });
    // The untouched proof still passes: the refusals above used up nothing.
    await expect(check(gate, who, good)).resolves.toMatchObject({ proven: 'dpop' });
  });
});
