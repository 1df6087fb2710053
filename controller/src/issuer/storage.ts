import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number | undefined;
}

/**
 * oidc-provider's artifacts (sessions, codes, tokens, grants) in memory, one storage per issuer. The
 * library's own memory adapter is a process-wide LRU of 1000 entries: two issuers in one test process would
 * share it and a benchmark would evict live tokens. Keeping the storage outside the `Provider` also lets the
 * issuer rebuild its provider for a key rotation while every token stays valid.
 */
export class IssuerStorage {
  private readonly entries = new Map<string, Entry>();
  private readonly grants = new Map<string, Set<string>>();
  private readonly sessionUids = new Map<string, string>();
  private readonly userCodes = new Map<string, string>();

  constructor(
    /** Clients that are not in the provider's static list (oidc-provider asks the `Client` model for them). */
    private readonly findClient: (clientId: string) => AdapterPayload | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** The adapter class oidc-provider instantiates once per model name. */
  adapterFor(model: string): Adapter {
    if (model === 'Client') {
      return {
        find: async (id) => this.findClient(id),
        upsert: async () => undefined,
        findByUid: async () => undefined,
        findByUserCode: async () => undefined,
        consume: async () => undefined,
        destroy: async () => undefined,
        revokeByGrantId: async () => undefined,
      };
    }
    const key = (id: string) => `${model}:${id}`;
    return {
      upsert: async (id, payload, expiresIn) => {
        const expiresAt = expiresIn ? this.now() + expiresIn * 1000 : undefined;
        this.entries.set(key(id), { payload, expiresAt });
        if (model === 'Session' && typeof payload.uid === 'string') this.sessionUids.set(payload.uid, id);
        if (typeof payload.userCode === 'string') this.userCodes.set(payload.userCode, id);
        if (typeof payload.grantId === 'string') {
          const members = this.grants.get(payload.grantId) ?? new Set<string>();
          members.add(key(id));
          this.grants.set(payload.grantId, members);
        }
      },
      find: async (id) => this.get(key(id)),
      findByUid: async (uid) => {
        const id = this.sessionUids.get(uid);
        return id === undefined ? undefined : this.get(key(id));
      },
      findByUserCode: async (userCode) => {
        const id = this.userCodes.get(userCode);
        return id === undefined ? undefined : this.get(key(id));
      },
      consume: async (id) => {
        const entry = this.get(key(id));
        if (entry) entry.consumed = Math.floor(this.now() / 1000);
      },
      destroy: async (id) => {
        this.entries.delete(key(id));
      },
      revokeByGrantId: async (grantId) => {
        for (const member of this.grants.get(grantId) ?? []) this.entries.delete(member);
        this.grants.delete(grantId);
      },
    };
  }

  private get(key: string): AdapterPayload | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.payload;
  }
}
