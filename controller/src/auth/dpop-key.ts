import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateProof, type CryptoKey, type KeyPair } from 'dpop';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { z } from 'zod';
import { PeeringError } from '../domain/errors.js';

/** The one algorithm our clients sign proofs with: small keys, fast, accepted by every DPoP server. */
const DPOP_ALG = 'ES256';

const PrivateEcJwkSchema = z.looseObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string().min(1),
  y: z.string().min(1),
  d: z.string().min(1),
});

/**
 * The key pair a client proves possession of (RFC 9449): one per peer identity, so that a token stolen from
 * one place is useless without the key. Signs a fresh proof per request with panva's `dpop` and remembers,
 * per server origin, the last nonce each server gave (RFC 9449 §8).
 *
 * @example
 * const key = await DpopKey.fromFile('/var/lib/peering/as64501.dpop.jwk'); // made (mode 0600) on first use
 * const proof = await key.proof('POST', 'https://peering.example.net/v0.1/sessions', accessToken);
 */
export class DpopKey {
  private readonly nonces = new Map<string, string>();

  private constructor(
    readonly keyPair: KeyPair,
    /** RFC 7638 SHA-256 thumbprint of the public key: the `cnf.jkt` of tokens bound to it. */
    readonly thumbprint: string,
  ) {}

  /** A new ES256 key pair, kept in memory only (a restart means a new key, and so new tokens). */
  static async generate(): Promise<DpopKey> {
    return DpopKey.fromPrivateJwk(await newPrivateJwk());
  }

  /**
   * The key of the JWK file at `path`, made there (mode 0600, never overwriting) when absent. A file readable
   * by others is refused, as ssh refuses such keys: whoever reads it can use the tokens bound to it.
   */
  static async fromFile(path: string): Promise<DpopKey> {
    let text: string | undefined;
    try {
      const info = await stat(path);
      if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
        throw new PeeringError(
          'INVALID_CONFIG',
          `the DPoP key file ${path} must be readable by its owner only (chmod 600 ${path})`,
          'dpopKeyFile',
        );
      }
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw error;
    }
    if (text === undefined) {
      const jwk = await newPrivateJwk();
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      try {
        await writeFile(path, `${JSON.stringify(jwk)}\n`, { mode: 0o600, flag: 'wx' });
      } catch (error) {
        // Another process made it meanwhile: use that one, so both sign with the same key.
        if ((error as { code?: string }).code === 'EEXIST') return DpopKey.fromFile(path);
        throw error;
      }
      return DpopKey.fromPrivateJwk(jwk);
    }
    return DpopKey.fromJwkText(text, path, 'dpopKeyFile');
  }

  /**
   * The key of a private JWK in text (a key file's or a Kubernetes Secret's content); anything else is refused
   * as `INVALID_CONFIG` naming `field` and where the text came from, never echoing the text itself.
   */
  static async fromJwkText(text: string, source: string, field: string): Promise<DpopKey> {
    let parsed: z.output<typeof PrivateEcJwkSchema>;
    try {
      parsed = PrivateEcJwkSchema.parse(JSON.parse(text));
    } catch {
      throw new PeeringError(
        'INVALID_CONFIG',
        `${source} is not an ES256 private JWK (kty EC, crv P-256, with d)`,
        field,
      );
    }
    try {
      return await DpopKey.fromPrivateJwk(parsed);
    } catch {
      throw new PeeringError('INVALID_CONFIG', `${source} holds no valid P-256 key`, field);
    }
  }

  /** A new private JWK as text, for a key file or a Secret (`peeringctl dpop-key new`). */
  static async newJwkText(): Promise<string> {
    return `${JSON.stringify(await newPrivateJwk())}\n`;
  }

  private static async fromPrivateJwk(jwk: JWK): Promise<DpopKey> {
    const { d: _d, ...publicJwk } = jwk;
    const privateKey = (await importJWK({ ...jwk, ext: false }, DPOP_ALG)) as CryptoKey;
    // The public half must be extractable: every proof carries it as its `jwk` header.
    const publicKey = (await importJWK({ ...publicJwk, ext: true }, DPOP_ALG, {
      extractable: true,
    })) as CryptoKey;
    return new DpopKey({ privateKey, publicKey }, await calculateJwkThumbprint(publicJwk, 'sha256'));
  }

  /**
   * A fresh proof for one request: `htm`, `htu` (the URL without query and fragment), `iat`, a random `jti`,
   * the last nonce `url`'s server gave, and with an access token its hash as `ath`.
   */
  async proof(method: string, url: string, accessToken?: string): Promise<string> {
    const target = new URL(url);
    return generateProof(
      this.keyPair,
      `${target.origin}${target.pathname}`,
      method.toUpperCase(),
      this.nonces.get(target.origin),
      accessToken,
    );
  }

  /** A raw r||s ECDSA P-256 SHA-256 signature of `data` (RFC 9421 §3.3.4, as WebCrypto makes it). */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    const signature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      this.keyPair.privateKey,
      data,
    );
    return new Uint8Array(signature);
  }

  /** Keeps the `DPoP-Nonce` a server answered with for its next proofs; true when it is a new one. */
  rememberNonce(url: string, nonce: string | undefined): boolean {
    if (nonce === undefined || nonce === '') return false;
    const origin = new URL(url).origin;
    if (this.nonces.get(origin) === nonce) return false;
    this.nonces.set(origin, nonce);
    return true;
  }
}

async function newPrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(DPOP_ALG, { extractable: true });
  const { kty, crv, x, y, d } = await exportJWK(privateKey);
  return { kty, crv, x, y, d };
}
