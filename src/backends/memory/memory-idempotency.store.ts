import { type IdempotencyRecord, IdempotencyStore } from '../../jobs/idempotency';

/** Keys held at most: past it the entries closest to expiry go first (a flood of keys cannot grow the heap without bound). */
const MAX_KEYS = 100_000;

/** The embedded mode's idempotency keys, in this process. */
export class MemoryIdempotencyStore extends IdempotencyStore {
  private readonly entries = new Map<string, { record: IdempotencyRecord; expiresAt: number }>();

  constructor(private readonly maxKeys = MAX_KEYS) {
    super();
  }

  async claim(key: string, fingerprint: string, ttlMs: number): Promise<IdempotencyRecord | null> {
    const now = Date.now();
    const held = this.entries.get(key);
    if (held && held.expiresAt > now) return { ...held.record };
    this.entries.delete(key);
    if (this.entries.size >= this.maxKeys) this.evict(now);
    this.entries.set(key, { record: { fingerprint, state: 'pending' }, expiresAt: now + ttlMs });
    return null;
  }

  async complete(key: string, done: { fingerprint: string; jobId: string; status: number }, ttlMs: number): Promise<void> {
    this.entries.delete(key); // re-inserted last: Map order stays by insertion, close to expiry order
    this.entries.set(key, { record: { ...done, state: 'done' }, expiresAt: Date.now() + ttlMs });
  }

  async release(key: string, fingerprint: string): Promise<void> {
    const held = this.entries.get(key);
    if (held && held.record.state === 'pending' && held.record.fingerprint === fingerprint) this.entries.delete(key);
  }

  private evict(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    // Still full: the oldest insertions go (one tenth, so this does not run on every claim).
    if (this.entries.size < this.maxKeys) return;
    let drop = Math.ceil(this.maxKeys / 10);
    for (const key of this.entries.keys()) {
      if (drop-- <= 0) break;
      this.entries.delete(key);
    }
  }
}
