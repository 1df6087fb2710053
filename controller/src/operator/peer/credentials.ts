import { StaticTokenSource, type TokenSource } from '../../auth/token-source.js';
import type { PeerApiCredentials } from '../resources/peer-api.js';
import type { SecretReader } from '../store/resource-store.js';

/**
 * The token source for a peer's API from a resource's `credentials`: the Secret is read when a token is needed
 * (through a caching reader), so a rotated Secret is picked up without a restart.
 */
export function tokenSourceFor(
  namespace: string,
  credentials: PeerApiCredentials,
  secrets: SecretReader,
): { token: TokenSource; credentialKey: string } {
  const ref = credentials.bearerTokenSecretRef;
  return {
    credentialKey: `${namespace}/${ref.name}/${ref.key}`,
    token: {
      token: async () => (await secrets.read(namespace, ref.name, ref.key)).trim(),
    },
  };
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

export { StaticTokenSource };
