import { createHash, hash, randomBytes, verify, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import {
  parseDictionary,
  serializeDictionary,
  serializeInnerList,
  serializeItem,
  type BareItem,
  type Dictionary,
  type InnerList,
  type Item,
  type Parameters,
} from 'structured-headers';
import { PeeringError, type ErrorCode } from '../domain/errors.js';
import type { DpopKey } from './dpop-key.js';
import type { DpopReplayCache } from './dpop-replay-cache.js';

/**
 * HTTP Message Signatures (RFC 9421) with Content-Digest (RFC 9530), signed with the client's DPoP key: the
 * draft's M3 in full. The DPoP proof binds the token to the key and to method and URL; the signature extends
 * that to the body (through Content-Digest) and to the headers that say what the body is.
 *
 * The signature base is built here rather than by `http-message-signatures`: that library follows draft-13, and
 * although its base for our few components agrees with RFC 9421, its verifier folds every failure into a few
 * generic errors (we answer one catalog code per check), walks every signature of a message, and does not refuse a
 * component named twice (RFC 9421 §2.5). Parsing and serialising stay with `structured-headers` (RFC 8941).
 */

/** The one algorithm we sign and verify with: ES256 keys, the raw r||s signature of RFC 9421 §3.3.4. */
export const SIGNATURE_ALG = 'ecdsa-p256-sha256';
/** The label our client gives its signature; a verifier takes any one label (RFC 9421 §4.1). */
export const SIGNATURE_LABEL = 'sig1';

/** A header field as the signature covers it, or undefined when the request does not carry it. */
export type HeaderLookup = (name: string) => string | undefined;

/** What a signature over a request must cover; `content-*` only when the request has them. */
export function requiredComponents(headers: HeaderLookup, hasBody: boolean): string[] {
  const components = ['@method', '@target-uri', 'authorization', 'dpop'];
  if (hasBody || headers('content-digest') !== undefined) components.push('content-digest');
  if (headers('content-type') !== undefined) components.push('content-type');
  return components;
}

/** `sha-256=:<base64>:` of exactly these bytes (RFC 9530 §2). */
export function contentDigest(body: Uint8Array | string): string {
  return serializeDictionary(new Map([['sha-256', [createHash('sha256').update(body).digest(), new Map()]]]));
}

/**
 * The SHA-256 the `Content-Digest` field states, or undefined when it states none (another algorithm only, or no
 * field). A field that is no RFC 8941 dictionary, or whose sha-256 is no byte sequence, is refused.
 */
export function statedSha256(field: string | undefined): Buffer | undefined {
  if (field === undefined) return undefined;
  let dictionary: Dictionary;
  try {
    dictionary = parseDictionary(field);
  } catch {
    throw new SignatureRefusal('CONTENT_DIGEST_MISMATCH', 'the Content-Digest field is not a dictionary');
  }
  const member = dictionary.get('sha-256');
  if (member === undefined) return undefined;
  if (!(member[0] instanceof ArrayBuffer)) {
    throw new SignatureRefusal(
      'CONTENT_DIGEST_MISMATCH',
      'the sha-256 of Content-Digest is not a byte sequence',
    );
  }
  return Buffer.from(member[0]);
}

/** What a signed request is: its method, full target URI, and its header fields. */
export interface SignedRequest {
  method: string;
  targetUri: string;
  headers: HeaderLookup;
}

/**
 * The signature base of RFC 9421 §2.5: one line per covered component, `"name": value`, then the
 * `@signature-params` line (the serialised inner list exactly as in `Signature-Input`). Only `@method`,
 * `@target-uri` and plain header fields are supported; any other component, a component with parameters, one
 * named twice, or a header the request lacks fails.
 */
export function signatureBase(request: SignedRequest, input: InnerList): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const [name, parameters] of input[0]) {
    if (typeof name !== 'string' || parameters.size > 0) {
      throw invalid('a covered component must be a name without parameters');
    }
    if (seen.has(name)) throw invalid(`the component ${name} is covered twice`);
    seen.add(name);
    lines.push(`${serializeItem([name, parameters])}: ${componentValue(request, name)}`);
  }
  lines.push(`"@signature-params": ${serializeInnerList(input)}`);
  return lines.join('\n');
}

function componentValue(request: SignedRequest, name: string): string {
  if (name === '@method') return request.method.toUpperCase();
  if (name === '@target-uri') return request.targetUri;
  if (name.startsWith('@') || name !== name.toLowerCase()) {
    throw invalid(`the component ${name} is not one we can verify`);
  }
  const value = request.headers(name);
  if (value === undefined) throw invalid(`the covered header ${name} is not in the request`);
  // RFC 9421 §2.1: leading and trailing whitespace removed, obsolete line folding replaced by a space.
  return value.replace(/\r?\n[ \t]+/g, ' ').trim();
}

/**
 * The `Signature-Input` and `Signature` fields of one signature by `sign` (raw r||s ECDSA P-256 SHA-256), with
 * `created` now and a random `nonce` unless given.
 */
export async function signRequest(
  request: SignedRequest,
  components: readonly string[],
  keyid: string,
  sign: (data: Uint8Array) => Promise<Uint8Array>,
  options: { now?: number; nonce?: string } = {},
): Promise<{ 'signature-input': string; signature: string }> {
  const parameters: Parameters = new Map<string, BareItem>([
    ['created', Math.floor((options.now ?? Date.now()) / 1000)],
    ['nonce', options.nonce ?? randomBytes(16).toString('base64url')],
    ['keyid', keyid],
    ['alg', SIGNATURE_ALG],
  ]);
  const input: InnerList = [components.map((name): Item => [name, new Map()]), parameters];
  const signature = await sign(Buffer.from(signatureBase(request, input)));
  return {
    'signature-input': serializeDictionary(new Map([[SIGNATURE_LABEL, input]])),
    signature: serializeDictionary(new Map([[SIGNATURE_LABEL, [signature, new Map()]]])),
  };
}

/** A request refused for its signature or its Content-Digest: 401, with the `Accept-Signature` we want. */
export class SignatureRefusal extends PeeringError {
  constructor(code: ErrorCode, message: string) {
    super(code, message, code.startsWith('CONTENT_DIGEST') ? 'content-digest' : 'signature');
  }
}

function invalid(message: string): SignatureRefusal {
  return new SignatureRefusal('SIGNATURE_INVALID', message);
}

/**
 * RFC 9421 §5.1: what we ask signers for, as an `Accept-Signature` field value, for a request with or without a
 * body and content type.
 */
export function acceptSignature(headers: HeaderLookup, hasBody: boolean): string {
  const input: InnerList = [
    requiredComponents(headers, hasBody).map((name): Item => [name, new Map()]),
    new Map<string, BareItem>([
      ['alg', SIGNATURE_ALG],
      ['created', true],
      ['nonce', true],
      ['keyid', true],
    ]),
  ];
  return serializeDictionary(new Map([[SIGNATURE_LABEL, input]]));
}

export interface SignatureCheckOptions {
  /** How far back `created` may be (and how long a nonce is remembered); the DPoP proof window. */
  windowMs: number;
  replayCache: DpopReplayCache;
  now?: () => number;
}

/** The request as the verifier sees it, with the DPoP proof's key, already checked against the token's cnf.jkt. */
export interface SignatureCheckRequest extends SignedRequest {
  /** Whether a body comes (Content-Length above 0, or chunked). */
  hasBody: boolean;
  proofJwk: JWK;
  /** `proofJwk` as the DPoP check imported it (and keeps it cached per client key). */
  proofKey: KeyObject;
  /** RFC 7638 thumbprint of `proofJwk`: the `keyid` the signature must name. */
  thumbprint: string;
  /** Every `Signature-Input` and `Signature` field as received, each repetition joined (RFC 8941 §3.2). */
  signatureInput: string | undefined;
  signature: string | undefined;
}

/** A `created` at most this far ahead of our clock is clock skew; beyond, a signature made for later. */
const FUTURE_SKEW_SECONDS = 5;
const MAX_NONCE_LENGTH = 256;

/**
 * Holds a request to the `dpop+signature` policy after its DPoP proof passed: exactly one signature, by the proof's
 * key, over at least {@link requiredComponents}, `created` recent, `nonce` never seen. The first failing check
 * names the refusal. The body is not read here: the caller compares the returned digest with the bytes it reads.
 *
 * @example
 * const { sha256 } = await new SignatureCheck({ windowMs: 60_000, replayCache }).check(request);
 */
export class SignatureCheck {
  private readonly now: () => number;

  constructor(private readonly options: SignatureCheckOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Resolves with the body digest the signature vouches for (undefined: no body may come); rejects otherwise. */
  async check(request: SignatureCheckRequest): Promise<{ sha256: Buffer | undefined }> {
    if (request.signatureInput === undefined || request.signature === undefined) {
      throw new SignatureRefusal(
        'SIGNATURE_MISSING',
        'this caller must sign its requests (RFC 9421): Signature-Input and Signature are required',
      );
    }
    const [label, input] = singleSignature(request.signatureInput);
    const signature = signatureBytes(request.signature, label);
    const parameters = input[1];
    if (parameters.has('alg') && parameters.get('alg') !== SIGNATURE_ALG) {
      throw invalid(`the signature must be ${SIGNATURE_ALG}`);
    }
    if (parameters.get('keyid') !== request.thumbprint) {
      throw new SignatureRefusal(
        'SIGNATURE_KEY_MISMATCH',
        'the keyid of the signature must be the thumbprint of the DPoP key',
      );
    }
    const covered = new Set(input[0].map(([name]) => name));
    const missing = requiredComponents(request.headers, request.hasBody).filter((name) => !covered.has(name));
    if (missing.includes('content-digest') && request.headers('content-digest') === undefined) {
      throw new SignatureRefusal(
        'CONTENT_DIGEST_MISSING',
        'a request with a body must carry Content-Digest (RFC 9530) and sign it',
      );
    }
    if (missing.length > 0) {
      throw new SignatureRefusal(
        'SIGNATURE_COMPONENTS_MISSING',
        `the signature must cover ${missing.join(', ')}`,
      );
    }
    const base = signatureBase(request, input);
    if (
      !verify(
        'sha256',
        Buffer.from(base),
        { key: p256Key(request.proofJwk, request.proofKey), dsaEncoding: 'ieee-p1363' },
        signature,
      )
    ) {
      throw invalid('the signature does not verify with the DPoP key over this request');
    }
    const created = parameters.get('created');
    const nowSeconds = this.now() / 1000;
    const windowSeconds = this.options.windowMs / 1000;
    if (typeof created !== 'number' || !Number.isInteger(created)) {
      throw new SignatureRefusal('SIGNATURE_CREATED_OUT_OF_WINDOW', 'the signature must have created');
    }
    const expires = parameters.get('expires');
    if (
      created > nowSeconds + FUTURE_SKEW_SECONDS ||
      nowSeconds - created > windowSeconds ||
      (typeof expires === 'number' && expires < nowSeconds)
    ) {
      throw new SignatureRefusal(
        'SIGNATURE_CREATED_OUT_OF_WINDOW',
        `the signature must be created within ${windowSeconds} s before now, and not be expired`,
      );
    }
    const nonce = parameters.get('nonce');
    if (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > MAX_NONCE_LENGTH) {
      throw invalid(`the signature must have a nonce of 1 to ${MAX_NONCE_LENGTH} characters`);
    }
    // Last, so that a signature refused for another reason does not use up its nonce; per key, digested.
    const replayKey = hash('sha256', `sig.${request.thumbprint}.${nonce}`, 'base64url');
    if (!(await this.options.replayCache.firstUse(replayKey, (created + windowSeconds) * 1000 + 1000))) {
      throw new SignatureRefusal(
        'SIGNATURE_NONCE_REPLAYED',
        'the signature was used before; sign each request anew',
      );
    }
    return { sha256: statedSha256(request.headers('content-digest')) };
  }
}

/** The proof's key, which must be EC P-256: the one curve of {@link SIGNATURE_ALG}. */
function p256Key(jwk: JWK, key: KeyObject): KeyObject {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') {
    throw invalid(`signatures are ${SIGNATURE_ALG}: the DPoP key must be an EC P-256 key`);
  }
  return key;
}

/** The one signature of `Signature-Input`: several, or one that is no inner list, are refused. */
function singleSignature(field: string): [string, InnerList] {
  let dictionary: Dictionary;
  try {
    dictionary = parseDictionary(field);
  } catch {
    throw invalid('Signature-Input is not a dictionary');
  }
  if (dictionary.size !== 1) {
    throw invalid(`exactly one signature is accepted, not ${dictionary.size}`);
  }
  const [label, member] = [...dictionary][0]!;
  if (!Array.isArray(member[0])) throw invalid('the Signature-Input member is not an inner list');
  return [label, member as InnerList];
}

function signatureBytes(field: string, label: string): Buffer {
  let dictionary: Dictionary;
  try {
    dictionary = parseDictionary(field);
  } catch {
    throw invalid('Signature is not a dictionary');
  }
  const member = dictionary.get(label);
  if (dictionary.size !== 1 || member === undefined || !(member[0] instanceof ArrayBuffer)) {
    throw invalid(`Signature must hold exactly the byte sequence labelled ${label}`);
  }
  return Buffer.from(member[0]);
}

/**
 * `Content-Digest` (RFC 9530, over exactly the body bytes sent; none without a body, as a GET has no content to
 * vouch for) and the RFC 9421 `Signature-Input` and `Signature` over method, target URI, token, proof and, with a
 * body, its digest and type: a fresh `created` and `nonce` per attempt, so a retry is never a replay.
 */
export async function signedRequestFields(
  key: Pick<DpopKey, 'thumbprint' | 'sign'>,
  method: string,
  url: string,
  headers: Record<string, string>,
  payload: string | undefined,
): Promise<Record<string, string>> {
  const fields: Record<string, string> = {};
  if (payload !== undefined) fields['content-digest'] = contentDigest(payload);
  const lookup = (name: string) => fields[name] ?? headers[name];
  const request = { method, targetUri: new URL(url).href, headers: lookup };
  const signed = await signRequest(
    request,
    requiredComponents(lookup, payload !== undefined),
    key.thumbprint,
    (data) => key.sign(data),
  );
  return { ...fields, ...signed };
}
