import {
  constants,
  createHmac,
  createPublicKey,
  hash,
  hkdfSync,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK, type JWTPayload } from 'jose';
import { PeeringError, type ErrorCode } from '../domain/errors.js';
import { authPolicyFor, type AuthPolicies, type AuthPolicy } from './auth-policy.js';
import type { DpopReplayCache } from './dpop-replay-cache.js';
import { SignatureCheck, SignatureRefusal, type HeaderLookup } from './http-signature.js';
import { tokenDigest, type Identity } from './identity.js';
import { JWT_ALGORITHMS, type JwtAlgorithm } from './jwt-verifier.js';

/** The `error` of the RFC 9449 §7.1 challenge a refusal carries. */
export type DpopChallengeError = 'invalid_dpop_proof' | 'invalid_token' | 'use_dpop_nonce';

/**
 * A request refused for how its token was presented: a 401 with its catalog code, answered with a
 * `WWW-Authenticate: DPoP` challenge (and the nonce to use, for `use_dpop_nonce`).
 */
export class DpopRefusal extends PeeringError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly challenge: DpopChallengeError = 'invalid_dpop_proof',
    readonly nonce?: string,
  ) {
    super(code, message, code === 'DPOP_SCHEME_REQUIRED' ? 'authorization' : 'dpop');
  }
}

/** `Authorization` as presented: its scheme (lower case) and token, or undefined for anything else. */
export interface PresentedCredentials {
  scheme: 'bearer' | 'dpop';
  token: string;
}

const AUTHORIZATION = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)\s*$/i;

/** Reads `Bearer <token>` or `DPoP <token>` (RFC 9449 §7.1: the same token68 syntax). */
export function presentedCredentials(authorization: string | undefined): PresentedCredentials | undefined {
  const match = authorization === undefined ? null : AUTHORIZATION.exec(authorization);
  if (!match) return undefined;
  return { scheme: match[1]!.toLowerCase() as 'bearer' | 'dpop', token: match[2]! };
}

/** What the check needs of one request. */
export interface DpopRequest {
  method: string;
  /** The URL the proof must name: our public API URL plus the request's path, without query. */
  url: string;
  credentials: PresentedCredentials;
  /** Every `DPoP` header value as received (each repetition separately). */
  proofs: readonly string[];
  /**
   * What the `dpop+signature` policy checks besides the proof (RFC 9421), asked for only under that policy;
   * absent: such callers are refused.
   */
  signed?: (() => SignedParts) | undefined;
}

/** The parts of a request its HTTP Message Signature covers. */
export interface SignedParts {
  /** Our public API URL plus the request's path and query, as received. */
  targetUri: string;
  headers: HeaderLookup;
  hasBody: boolean;
}

/** What a passed check tells the server. */
export interface DpopVerdict {
  /**
   * What the request proved, whatever the policy asked: `bearer` (a token only), `dpop` (a bound token and its
   * proof) or `dpop+signature` (and a verified signature). Counted per request, so a network can see how much
   * of its traffic is still bearer before it tightens its policy.
   */
  proven: AuthPolicy;
  /** The nonce to hand the client for its next proof. */
  nonce?: string | undefined;
  /**
   * Under `dpop+signature`: the SHA-256 the signed Content-Digest states, which the body read must match
   * (`null`: no body may come). Undefined: the policy does not sign bodies.
   */
  bodySha256?: Buffer | null;
}

export interface DpopOptions {
  /** Asymmetric algorithms proofs may be signed with; default ES256, EdDSA, PS256, RS256. */
  algorithms?: readonly JwtAlgorithm[];
  /** How far a proof's `iat` may be from our clock, either way; default 60 s. */
  proofWindowMs?: number;
  replayCache: DpopReplayCache;
  /** Server nonces (RFC 9449 §8); absent: none required. */
  nonces?: DpopNonces | undefined;
  now?: () => number;
}

/** Proof keys kept imported (oldest out first): one per client key, so this is many peers' worth. */
const KEY_CACHE_ENTRIES = 1024;

interface ImportedKey {
  key: KeyObject;
  thumbprint: string;
}

/**
 * How each JWS algorithm (RFC 7518 §3) verifies with node:crypto, and the key it needs. Proofs are verified here
 * rather than with jose's WebCrypto path: a synchronous `crypto.verify` on a cached KeyObject costs a fraction of
 * an async WebCrypto verification with its promise and key re-wrapping, on every request of a DPoP caller.
 */
const JWS_ALGORITHMS: Record<
  JwtAlgorithm,
  { hash: string | null; keyTypes: readonly string[]; curve?: string; pss?: true }
> = {
  RS256: { hash: 'sha256', keyTypes: ['rsa'] },
  RS384: { hash: 'sha384', keyTypes: ['rsa'] },
  RS512: { hash: 'sha512', keyTypes: ['rsa'] },
  PS256: { hash: 'sha256', keyTypes: ['rsa'], pss: true },
  PS384: { hash: 'sha384', keyTypes: ['rsa'], pss: true },
  PS512: { hash: 'sha512', keyTypes: ['rsa'], pss: true },
  ES256: { hash: 'sha256', keyTypes: ['ec'], curve: 'prime256v1' },
  ES384: { hash: 'sha384', keyTypes: ['ec'], curve: 'secp384r1' },
  ES512: { hash: 'sha512', keyTypes: ['ec'], curve: 'secp521r1' },
  EdDSA: { hash: null, keyTypes: ['ed25519', 'ed448'] },
  Ed25519: { hash: null, keyTypes: ['ed25519'] },
};
/** RFC 7518 §3.3: RSA keys below 2048 bits must not be used. */
const MIN_RSA_BITS = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A proof larger than this is no proof of ours; refusing it early bounds the work it costs. */
const MAX_PROOF_LENGTH = 8 * 1024;
const MAX_JTI_LENGTH = 256;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * Holds each request to its caller's {@link AuthPolicies}: under `bearer` a plain bearer token passes as before;
 * under `dpop`, and for any DPoP-bound token whatever the policy, the token must come as `DPoP` with one proof
 * that passes every check of RFC 9449 §4.3 against this request, in this order: typ, alg, jwk, signature,
 * claims, htm, htu, iat window, nonce, ath, key thumbprint = `cnf.jkt`, and a `jti` not seen before. The first
 * failing check names the refusal.
 *
 * @example
 * const gate = new DpopGate({ policy: 'dpop', byAsn: new Map() }, { replayCache: new MemoryReplayCache() });
 * const { nonce } = await gate.check(identity, { method: 'GET', url, credentials, proofs });
 */
export class DpopGate {
  readonly algorithms: readonly JwtAlgorithm[];
  private readonly keys = new Map<string, ImportedKey>();
  private readonly windowSeconds: number;
  private readonly now: () => number;
  private readonly signatures: SignatureCheck;

  constructor(
    private readonly policies: AuthPolicies,
    private readonly options: DpopOptions,
  ) {
    this.algorithms = options.algorithms ?? ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'];
    const forbidden = this.algorithms.filter((alg) => !(JWT_ALGORITHMS as readonly string[]).includes(alg));
    if (forbidden.length > 0 || this.algorithms.length === 0) {
      throw new PeeringError(
        'INVALID_CONFIG',
        `DPoP algorithms must be asymmetric JWS algorithms; not ${forbidden.join(', ') || 'an empty list'}`,
        'auth.dpop.algorithms',
      );
    }
    this.windowSeconds = (options.proofWindowMs ?? 60_000) / 1000;
    this.now = options.now ?? Date.now;
    this.signatures = new SignatureCheck({
      windowMs: options.proofWindowMs ?? 60_000,
      replayCache: options.replayCache,
      now: this.now,
    });
  }

  /**
   * Resolves when the request may go on, with the nonce to hand the client for its next proof (when nonces are
   * on and its proof did not carry the current one); rejects with a {@link DpopRefusal} otherwise. Under
   * `dpop+signature`, after every DPoP check, the request's signature is checked with the proof's key (a
   * {@link SignatureRefusal} when it fails) and the body digest it vouches for is returned.
   */
  async check(identity: Identity, request: DpopRequest): Promise<DpopVerdict> {
    const policy = authPolicyFor(identity, this.policies);
    const { scheme, token } = request.credentials;
    if (identity.boundKey === undefined && scheme === 'bearer') {
      if (policy === 'bearer') return { proven: 'bearer' };
      throw new DpopRefusal(
        'DPOP_SCHEME_REQUIRED',
        'this caller must use DPoP: a DPoP-bound access token with Authorization: DPoP and a DPoP proof',
        'invalid_token',
      );
    }
    // RFC 9449 §7.2: a bound token sent as a bearer token is a stolen token or a downgrade; never accepted.
    if (scheme !== 'dpop') {
      throw new DpopRefusal(
        'DPOP_SCHEME_REQUIRED',
        'the access token is DPoP-bound: send it as Authorization: DPoP with a DPoP proof',
        'invalid_token',
      );
    }
    if (identity.boundKey === undefined) {
      throw new DpopRefusal(
        'DPOP_TOKEN_NOT_BOUND',
        'the access token is not DPoP-bound (no cnf.jkt); get one by sending a DPoP proof to the token endpoint',
        'invalid_token',
      );
    }
    const proof = this.singleProof(request.proofs);
    const { payload, thumbprint, jwk, key } = await this.verifySignature(proof);
    const claims = requireClaims(payload);

    if (claims.htm !== request.method) {
      throw new DpopRefusal('DPOP_HTM_MISMATCH', `the proof is for ${claims.htm}, not ${request.method}`);
    }
    if (normaliseHtu(claims.htu) !== normaliseHtu(request.url)) {
      throw new DpopRefusal('DPOP_HTU_MISMATCH', `the proof is not for ${request.url}`);
    }
    const nowSeconds = this.now() / 1000;
    if (Math.abs(claims.iat - nowSeconds) > this.windowSeconds) {
      throw new DpopRefusal(
        'DPOP_IAT_OUT_OF_WINDOW',
        `the proof must be issued within ${this.windowSeconds} s of now`,
      );
    }
    const nonces = this.options.nonces;
    let nextNonce: string | undefined;
    if (nonces) {
      const verdict = nonces.verdict(payload.nonce);
      if (verdict === 'invalid') {
        throw new DpopRefusal(
          'DPOP_NONCE_REQUIRED',
          payload.nonce === undefined
            ? 'the proof must carry the server nonce'
            : 'the nonce of the proof is stale',
          'use_dpop_nonce',
          nonces.current(),
        );
      }
      if (verdict === 'previous') nextNonce = nonces.current();
    }
    if (claims.ath !== tokenDigest(token)) {
      throw new DpopRefusal(
        'DPOP_ATH_MISMATCH',
        claims.ath === undefined
          ? 'the proof has no ath (hash of the access token)'
          : 'the ath of the proof is not the hash of this access token',
      );
    }
    if (thumbprint !== identity.boundKey) {
      throw new DpopRefusal(
        'DPOP_KEY_MISMATCH',
        'the proof is signed with another key than the token is bound to',
      );
    }
    // Last, so that a proof refused for another reason does not use up its jti. The key is per signing key
    // (RFC 9449 §11.1), digested so the cache holds no caller data.
    const replayKey = hash('sha256', `${identity.boundKey}.${claims.jti}`, 'base64url');
    const acceptableUntil = (claims.iat + this.windowSeconds) * 1000 + 1000;
    if (!(await this.options.replayCache.firstUse(replayKey, acceptableUntil))) {
      throw new DpopRefusal('DPOP_JTI_REPLAYED', 'the proof was used before; make a fresh one per request');
    }
    if (policy !== 'dpop+signature') return { proven: 'dpop', nonce: nextNonce };
    if (request.signed === undefined) {
      throw new SignatureRefusal('SIGNATURE_MISSING', 'this caller must sign its requests (RFC 9421)');
    }
    const signed = request.signed();
    const { sha256 } = await this.signatures.check({
      ...signed,
      method: request.method,
      proofJwk: jwk,
      proofKey: key,
      thumbprint,
      signatureInput: signed.headers('signature-input'),
      signature: signed.headers('signature'),
    });
    return { proven: 'dpop+signature', nonce: nextNonce, bodySha256: sha256 ?? null };
  }

  private singleProof(proofs: readonly string[]): string {
    if (proofs.length === 0) {
      throw new DpopRefusal('DPOP_PROOF_MISSING', 'a DPoP header with a proof is required');
    }
    // A comma cannot occur in a compact JWS: two proofs folded into one field by a proxy are two proofs.
    if (proofs.length > 1 || proofs[0]!.includes(',')) {
      throw new DpopRefusal('DPOP_PROOF_MULTIPLE', 'exactly one DPoP header with one proof is allowed');
    }
    return proofs[0]!.trim();
  }

  /**
   * The imported key and RFC 7638 thumbprint of a proof's jwk, from a bounded cache: a client signs every proof
   * with the same key, and importing it and hashing it again for each request cost more than the signature check.
   * Keyed by the jwk's exact members and the algorithm, so a different key (or algorithm) is never served.
   */
  private async keyOf(jwk: JWK, alg: string): Promise<ImportedKey> {
    const id = `${alg}.${JSON.stringify(jwk)}`;
    const cached = this.keys.get(id);
    if (cached !== undefined) return cached;
    let imported: ImportedKey;
    try {
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      const spec = JWS_ALGORITHMS[alg as JwtAlgorithm];
      const details = key.asymmetricKeyDetails;
      const fits =
        key.type === 'public' &&
        spec.keyTypes.includes(key.asymmetricKeyType ?? '') &&
        (spec.curve === undefined || details?.namedCurve === spec.curve) &&
        (key.asymmetricKeyType !== 'rsa' || (details?.modulusLength ?? 0) >= MIN_RSA_BITS);
      if (!fits) throw new Error('not a key of the algorithm');
      imported = { key, thumbprint: await calculateJwkThumbprint(jwk, 'sha256') };
    } catch {
      throw new DpopRefusal('DPOP_JWK_INVALID', `the jwk of the proof is not a usable ${alg} key`);
    }
    if (this.keys.size >= KEY_CACHE_ENTRIES) this.keys.delete(this.keys.keys().next().value as string);
    this.keys.set(id, imported);
    return imported;
  }

  private async verifySignature(
    proof: string,
  ): Promise<{ payload: JWTPayload; thumbprint: string; jwk: JWK; key: KeyObject }> {
    if (proof.length > MAX_PROOF_LENGTH) throw malformed('the proof is too large');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(proof);
    } catch {
      throw malformed('the proof is not a JWT');
    }
    if (header.typ !== 'dpop+jwt') {
      throw new DpopRefusal('DPOP_TYP_INVALID', 'the proof must have typ dpop+jwt');
    }
    if (typeof header.alg !== 'string' || !(this.algorithms as readonly string[]).includes(header.alg)) {
      throw new DpopRefusal(
        'DPOP_ALG_NOT_ALLOWED',
        `the proof must be signed with one of ${this.algorithms.join(', ')}`,
      );
    }
    const jwk = header.jwk;
    if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) {
      throw new DpopRefusal('DPOP_JWK_INVALID', 'the proof must carry its public key as jwk');
    }
    if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) {
      throw new DpopRefusal(
        'DPOP_JWK_INVALID',
        'the jwk of the proof must be a public key, without private members',
      );
    }
    if (jwk.kty !== 'EC' && jwk.kty !== 'RSA' && jwk.kty !== 'OKP') {
      throw new DpopRefusal('DPOP_JWK_INVALID', 'the jwk of the proof must be an asymmetric key');
    }
    // RFC 7515 §4.1.11: an extension we do not understand must not be ignored (b64: false among them).
    if (header.crit !== undefined) throw malformed('the proof must not carry crit extensions');
    const { key, thumbprint } = await this.keyOf(jwk, header.alg);
    const parts = proof.split('.');
    if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) {
      throw malformed('the proof is not a compact JWS');
    }
    const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
    const spec = JWS_ALGORITHMS[header.alg as JwtAlgorithm];
    const verified = verify(
      spec.hash,
      Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii'),
      spec.pss
        ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
        : { key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(encodedSignature, 'base64url'),
    );
    if (!verified) throw malformed('the signature of the proof does not verify with its jwk');
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(encodedPayload, 'base64url').toString('utf8'));
    } catch {
      throw malformed('the proof is not a valid JWT');
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw malformed('the proof is not a valid JWT');
    }
    return { payload: payload as JWTPayload, thumbprint, jwk, key };
  }
}

interface ProofClaims {
  htm: string;
  htu: string;
  iat: number;
  jti: string;
  ath: string | undefined;
}

function requireClaims(payload: JWTPayload): ProofClaims {
  const { htm, htu, iat, jti, ath } = payload as Record<string, unknown>;
  if (typeof htm !== 'string' || typeof htu !== 'string') throw malformed('the proof must have htm and htu');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw malformed('the proof must have a numeric iat');
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    throw malformed(`the proof must have a jti of 1 to ${MAX_JTI_LENGTH} characters`);
  }
  if (ath !== undefined && typeof ath !== 'string') throw malformed('the ath of the proof must be a string');
  return { htm, htu, iat, jti, ath };
}

function malformed(message: string): DpopRefusal {
  return new DpopRefusal('DPOP_PROOF_INVALID', message);
}

/**
 * RFC 9449 §4.3 compares htu without query and fragment, after syntax-based normalisation (RFC 3986 §6.2.2):
 * case of scheme and host, default port, percent-encoding case. A value that is no URL never matches.
 */
export function normaliseHtu(value: string): string {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname.replace(/%[0-9a-f]{2}/gi, (e) => e.toUpperCase())}`;
  } catch {
    return `invalid:${value}`;
  }
}

/**
 * Server nonces (RFC 9449 §8) that need no state and agree across replicas: the nonce of a time slot is an
 * HMAC of the slot under a key derived from a secret the replicas share (the page-token key). A proof must
 * carry the nonce of the current slot or the one before, so a nonce lives between one and two slots.
 *
 * @example
 * const nonces = new DpopNonces(pageTokenKey, { lifetimeMs: 300_000 });
 * reply.header('dpop-nonce', nonces.current());
 */
export class DpopNonces {
  private readonly key: Buffer;
  private readonly lifetimeMs: number;
  private readonly now: () => number;

  constructor(secret: Buffer, options: { lifetimeMs?: number; now?: () => number } = {}) {
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'peering-operator dpop nonce', 32));
    this.lifetimeMs = options.lifetimeMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  current(): string {
    return this.nonceOf(this.slot());
  }

  /** `current`, `previous` (good, but hand out the current one), or `invalid` (absent, stale or forged). */
  verdict(nonce: unknown): 'current' | 'previous' | 'invalid' {
    if (typeof nonce !== 'string') return 'invalid';
    const slot = this.slot();
    if (nonce === this.nonceOf(slot)) return 'current';
    if (nonce === this.nonceOf(slot - 1)) return 'previous';
    return 'invalid';
  }

  private slot(): number {
    return Math.floor(this.now() / this.lifetimeMs);
  }

  private nonceOf(slot: number): string {
    return createHmac('sha256', this.key).update(String(slot)).digest('base64url');
  }
}
