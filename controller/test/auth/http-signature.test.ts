import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { DpopKey } from '../../src/auth/dpop-key.js';
import { MemoryReplayCache } from '../../src/auth/dpop-replay-cache.js';
import {
  acceptSignature,
  contentDigest,
  requiredComponents,
  signatureBase,
  SignatureCheck,
  signRequest,
  statedSha256,
} from '../../src/auth/http-signature.js';
import { exportJWK } from 'jose';

const headers: Record<string, string> = {
  authorization: 'DPoP abc.def',
  dpop: 'x.y.z',
  'content-digest': 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
  'content-type': 'application/json',
};
const lookup = (name: string) => headers[name];
const request = {
  method: 'POST',
  targetUri: 'https://peering.example.net/v0.1/sessions?x=1',
  headers: lookup,
};

describe('Content-Digest (RFC 9530)', () => {
  test('the sha-256 of exactly the bytes, as the RFC 9530 §2 example', () => {
    expect(contentDigest('{"hello": "world"}')).toBe(
      'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
    );
    expect(statedSha256(headers['content-digest'])?.toString('base64')).toBe(
      'X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=',
    );
    expect(statedSha256('sha-512=:AAAA:')).toBeUndefined();
    expect(() => statedSha256('sha-256="text"')).toThrow(/not a byte sequence/);
  });
});

describe('signature base (RFC 9421 §2.5)', () => {
  test('one line per component, then @signature-params as in Signature-Input', () => {
    const input = [
      requiredComponents(lookup, true).map((name) => [name, new Map()]),
      new Map<string, string | number>([
        ['created', 1700000000],
        ['nonce', 'n1'],
        ['keyid', 'k'],
        ['alg', 'ecdsa-p256-sha256'],
      ]),
    ] as Parameters<typeof signatureBase>[1];
    expect(signatureBase(request, input)).toBe(
      [
        '"@method": POST',
        '"@target-uri": https://peering.example.net/v0.1/sessions?x=1',
        '"authorization": DPoP abc.def',
        '"dpop": x.y.z',
        '"content-digest": sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
        '"content-type": application/json',
        '"@signature-params": ("@method" "@target-uri" "authorization" "dpop" "content-digest" "content-type")' +
          ';created=1700000000;nonce="n1";keyid="k";alg="ecdsa-p256-sha256"',
      ].join('\n'),
    );
  });

  test('a component covered twice, an unsupported one, or an absent header fails', () => {
    const params = new Map();
    const of = (...names: string[]) =>
      [names.map((name) => [name, new Map()]), params] as Parameters<typeof signatureBase>[1];
    expect(() => signatureBase(request, of('@method', '@method'))).toThrow(/twice/);
    expect(() => signatureBase(request, of('@authority'))).toThrow(/not one we can verify/);
    expect(() => signatureBase(request, of('x-absent'))).toThrow(/not in the request/);
  });

  test('without a body only method, target URI, token and proof are required', () => {
    const get = (name: string) => (name === 'authorization' || name === 'dpop' ? 'v' : undefined);
    expect(requiredComponents(get, false)).toEqual(['@method', '@target-uri', 'authorization', 'dpop']);
    expect(acceptSignature(get, false)).toBe(
      'sig1=("@method" "@target-uri" "authorization" "dpop");alg="ecdsa-p256-sha256";created;nonce;keyid',
    );
  });
});

describe('SignatureCheck', () => {
  test('verifies what signRequest makes with the DPoP key, once', async () => {
    const key = await DpopKey.generate();
    const signed = await signRequest(request, requiredComponents(lookup, true), key.thumbprint, (data) =>
      key.sign(data),
    );
    const check = new SignatureCheck({ windowMs: 60_000, replayCache: new MemoryReplayCache() });
    const proofJwk = await exportJWK(key.keyPair.publicKey);
    const input = {
      ...request,
      hasBody: true,
      proofJwk,
      proofKey: createPublicKey({ key: proofJwk as JsonWebKey, format: 'jwk' }),
      thumbprint: key.thumbprint,
      signatureInput: signed['signature-input'],
      signature: signed.signature,
    };
    const { sha256 } = await check.check(input);
    expect(sha256?.toString('base64')).toBe('X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=');
    await expect(check.check(input)).rejects.toMatchObject({ code: 'SIGNATURE_NONCE_REPLAYED' });
  });
});
