import { createHmac, createPublicKey, KeyObject, sign as rsaSign, type JsonWebKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

/**
 * A bare token issuer for the attack matrix: discovery and a JWKS over real HTTP on 127.0.0.1, and keys the
 * test holds, so it can sign what a real issuer never would (expired, not yet valid, no `sub`, wrong `typ`...).
 */
export interface KeyServer {
  issuer: string;
  kid: string;
  /** JWKS fetches so far (to see the refresh rate limit). */
  jwksFetches(): number;
  /** Signs `claims` (merged over valid defaults for `audience`) with the published key. */
  sign(
    audience: string,
    claims?: JWTPayload & Record<string, unknown>,
    header?: Record<string, unknown>,
  ): Promise<string>;
  /**
   * Signs with the published key but without jose's checks: any `alg` of the RS family (`RS384` over the RS256
   * key) and any header, e.g. an unknown `crit` extension.
   */
  signRaw(audience: string, header: Record<string, unknown>, claims?: Record<string, unknown>): string;
  /** Signs with a key that is NOT published, under `kid` (default: the published kid). */
  signWithStrangerKey(audience: string, kid?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startKeyServer(): Promise<KeyServer> {
  const published = await generateKeyPair('RS256', { extractable: true });
  const stranger = await generateKeyPair('RS256', { extractable: true });
  const kid = 'forge-key-1';
  const publicJwk: JWK = { ...(await exportJWK(published.publicKey)), kid, alg: 'RS256', use: 'sig' };
  let fetches = 0;
  let issuer = '';
  const server: Server = createServer((req, res) => {
    const body =
      req.url === '/.well-known/openid-configuration'
        ? { issuer, jwks_uri: `${issuer}/jwks.json` }
        : req.url === '/jwks.json'
          ? (fetches++, { keys: [publicJwk] })
          : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const now = () => Math.floor(Date.now() / 1000);
  const defaults = (audience: string): JWTPayload => ({
    iss: issuer,
    aud: audience,
    sub: 'forged-subject',
    iat: now(),
    exp: now() + 600,
    client_id: 'forge',
    networks: [{ asn: 64501, perms: 15 }],
  });
  return {
    issuer,
    kid,
    jwksFetches: () => fetches,
    sign: async (audience, claims = {}, header = {}) => {
      const payload = { ...defaults(audience), ...claims };
      for (const [key, value] of Object.entries(payload)) if (value === undefined) delete payload[key];
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid, ...header })
        .sign(published.privateKey);
    },
    signRaw: (audience, header, claims = {}) => {
      const input = `${b64({ typ: 'at+jwt', kid, ...header })}.${b64({ ...defaults(audience), ...claims })}`;
      const hash = `sha${String(header.alg ?? 'RS256').slice(2)}`;
      const signature = rsaSign(hash, Buffer.from(input), KeyObject.from(published.privateKey));
      return `${input}.${signature.toString('base64url')}`;
    },
    signWithStrangerKey: async (audience, strangerKid = kid) =>
      new SignJWT(defaults(audience))
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: strangerKid })
        .sign(stranger.privateKey),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWS with `alg: none` and no signature (RFC 7519 §6). */
export function unsecuredToken(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${b64({ ...header, alg: 'none' })}.${b64(payload)}.`;
}

/**
 * The classic key confusion: HS256 whose HMAC secret is the issuer's RSA public key (as PEM), which a verifier
 * that takes the algorithm from the token would accept.
 */
export function hmacWithPublicKey(
  publicJwk: JWK,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const pem = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  const input = `${b64({ ...header, alg: 'HS256' })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
}

/** The token with its payload re-encoded after `change`, signature kept (a tampered token). */
export function tamper(token: string, change: (payload: Record<string, unknown>) => void): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  change(claims);
  return `${header}.${b64(claims)}.${signature}`;
}

/** Header and claims of a JWT, unverified. */
export function decodeParts(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = token.split('.') as [string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
  };
}
