/**
 * Results of token verifications, keyed by the exact token string, each kept until its token
 * expires. A client sends the same access token with every request for its whole lifetime; the
 * signature check it passed a moment ago (about 100 µs for ES256) need not run again.
 *
 * It holds only what cannot change for a given string: the signature and claims of a token.
 * What can change (revocation of its session, retirement of its key) the caller checks on every
 * hit. Bounded: at most `maxEntries`, the least recently used leaves first; an entry is never
 * returned at or after its expiry.
 */
export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, { value: T; expiresAtMs: number }>();

  constructor(
    readonly maxEntries = 10_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** The value stored for `token`, unless it expired or was evicted. */
  get(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (this.now() >= entry.expiresAtMs) {
      this.entries.delete(token);
      return undefined;
    }
    // Map keeps insertion order: moving the entry last makes the first the least recently used.
    this.entries.delete(token);
    this.entries.set(token, entry);
    return entry.value;
  }

  /** Stores `value` for `token` until `expiresAtMs` (epoch ms); already expired is not stored. */
  set(token: string, value: T, expiresAtMs: number): void {
    if (this.now() >= expiresAtMs) return;
    this.entries.delete(token);
    if (this.entries.size >= this.maxEntries) {
      const leastRecentlyUsed = this.entries.keys().next();
      if (!leastRecentlyUsed.done) this.entries.delete(leastRecentlyUsed.value);
    }
    this.entries.set(token, { value, expiresAtMs });
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}
