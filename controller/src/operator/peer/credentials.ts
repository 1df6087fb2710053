import { createHash } from 'node:crypto';
import { DpopKey } from '../../auth/dpop-key.js';
import { ClientCredentialsTokenSource } from '../../auth/oauth-token-sources.js';
import type { TokenSource } from '../../auth/token-source.js';
import type { OAuthClientCredentials, PeerApiCredentials } from '../resources/peer-api.js';
import type { SecretReader } from '../backing/resource-collection.js';
import { PeeringError } from '../../domain/errors.js';
import type { PeerApi, PeerApiConnector } from './peer-api.js';

/**
 * Token sources for peers' APIs from resources' `credentials`. A bearer token is read from its Secret when a
 * token is needed (through a caching reader), so a rotated Secret is picked up without a restart; client
 * credentials get one {@link ClientCredentialsTokenSource} per issuer, client, secret and DPoP key, which caches
 * the access token until shortly before it expires. With a DPoP key (from its Secret, never from a file in the
 * pod) the tokens are bound to it and the client proves and signs every request with it.
 *
 * @example
 * const tokens = new PeerTokenSources(secrets);
 * const { token } = await tokens.forCredentials('peering', request.spec.credentials);
 */
export class PeerTokenSources {
  private readonly oauth = new Map<string, TokenSource>();

  constructor(private readonly secrets: SecretReader) {}

  async forCredentials(
    namespace: string,
    credentials: PeerApiCredentials,
  ): Promise<{ token: TokenSource; credentialKey: string }> {
    const bearer = credentials.bearerTokenSecretRef;
    if (bearer) {
      return {
        credentialKey: `${namespace}/${bearer.name}/${bearer.key}`,
        token: { token: async () => (await this.secrets.read(namespace, bearer.name, bearer.key)).trim() },
      };
    }
    const oauth = credentials.oauth2ClientCredentials as OAuthClientCredentials;
    const ref = oauth.clientSecretRef;
    const secret = (await this.secrets.read(namespace, ref.name, ref.key)).trim();
    const keyRef = oauth.dpopKeySecretRef;
    const keyText = keyRef ? (await this.secrets.read(namespace, keyRef.name, keyRef.key)).trim() : '';
    // A rotated secret or DPoP key (a new Secret value) means a new token source: tokens bound to the old key
    // are useless with the new one.
    const fingerprint = createHash('sha256')
      .update(secret)
      .update('\0')
      .update(keyText)
      .digest('hex')
      .slice(0, 16);
    const credentialKey = `${oauth.issuer}|${oauth.clientId}|${oauth.resource ?? ''}|${oauth.scope ?? ''}|${fingerprint}`;
    let token = this.oauth.get(credentialKey);
    if (!token) {
      const dpop = keyRef
        ? await DpopKey.fromJwkText(
            keyText,
            `dpopKeySecretRef: Secret ${namespace}/${keyRef.name} key ${keyRef.key}`,
            'spec.credentials.oauth2ClientCredentials.dpopKeySecretRef',
          )
        : undefined;
      token = new ClientCredentialsTokenSource({
        issuer: oauth.issuer,
        clientId: oauth.clientId,
        clientSecret: secret,
        resource: oauth.resource,
        scope: oauth.scope,
        dpop,
      });
      this.oauth.set(credentialKey, token);
    }
    return { token, credentialKey };
  }
}

/** Keeps Secret values for a short while: a poll of 10,000 sessions must not read a Secret 10,000 times. */
export class CachingSecretReader implements SecretReader {
  private readonly cache = new Map<string, { value: Promise<string>; at: number }>();

  constructor(
    private readonly inner: SecretReader,
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  read(namespace: string, name: string, key: string): Promise<string> {
    const id = `${namespace}/${name}/${key}`;
    const hit = this.cache.get(id);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = this.inner.read(namespace, name, key);
    this.cache.set(id, { value, at: this.now() });
    value.catch(() => this.cache.delete(id));
    return value;
  }
}

/** What an Outbound request or session says about reaching the peer. */
export interface OutboundTarget {
  peerApiUrl?: string | undefined;
  credentials?: PeerApiCredentials | undefined;
  localAsn: number;
  peerAsn: number;
}

/**
 * The peer's API for an Outbound resource, with its token from the resource's credentials: the one place
 * where both reconcilers turn a spec into a connection.
 */
export async function connectOutbound(
  peers: PeerApiConnector,
  tokens: PeerTokenSources,
  namespace: string,
  spec: OutboundTarget,
  kind: 'request' | 'session',
): Promise<PeerApi> {
  if (!spec.peerApiUrl || !spec.credentials) {
    throw new PeeringError(
      'INVALID_FIELD',
      `an Outbound ${kind} needs peerApiUrl and credentials`,
      'spec.peerApiUrl',
    );
  }
  const { token, credentialKey } = await tokens.forCredentials(namespace, spec.credentials);
  return peers.connect({
    url: spec.peerApiUrl,
    localAsn: spec.localAsn,
    peerAsn: spec.peerAsn,
    token,
    credentialKey,
  });
}
