/**
 * Remembers the DPoP proofs a server accepted, for as long as they could be presented again (RFC 9449 §11.1).
 * The in-memory cache serves one server process; replicas that should refuse each other's replays need one
 * backed by a store they share, behind this same interface.
 */
export interface DpopReplayCache {
  /**
   * Records `key` (a digest of the proof's key thumbprint and `jti`) until `expiresAt` (ms since the epoch).
   * True when it was new; false when it is already recorded and not expired: a replay.
   */
  firstUse(key: string, expiresAt: number): Promise<boolean>;
}

/**
 * A bounded in-memory {@link DpopReplayCache}. Entries live only as long as a proof stays acceptable (its `iat`
 * window), so the bound is reached only under more proofs per window than `maxEntries`; then the oldest entry
 * goes first. That is a deliberate trade: refusing new proofs when full would let anyone lock every caller out
 * with a burst of proofs, while evicting reopens replay only for the oldest proofs, already nearest the end of
 * their window.
 *
 * @example
 * const cache = new MemoryReplayCache({ maxEntries: 100_000 });
 * if (!(await cache.firstUse(key, Date.now() + 120_000))) throw replayed();
 */
export class MemoryReplayCache implements DpopReplayCache {
  // Insertion order is expiry order within a few seconds (one window for all), so the first entries are the
  // ones to sweep or evict.
  private readonly seen = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  async firstUse(key: string, expiresAt: number): Promise<boolean> {
    const now = this.now();
    const known = this.seen.get(key);
    if (known !== undefined && known > now) return false;
    this.sweep(now);
    while (this.seen.size >= this.maxEntries) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.delete(key);
    this.seen.set(key, expiresAt);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    for (const [key, expiresAt] of this.seen) {
      if (expiresAt > now) break;
      this.seen.delete(key);
    }
  }
}
