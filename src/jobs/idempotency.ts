/**
 * Idempotent submission (the IETF httpapi `Idempotency-Key` draft): a POST that creates a job,
 * retried with the same key and body, answers with the job the first one created instead of making
 * another. Keys are per caller; the store is shared by every instance (a port with a memory and a
 * Redis implementation, one contract: test/contracts/idempotency.contract.ts).
 */

/** What holds a key: a request still being admitted, or the job it made. */
export interface IdempotencyRecord {
  /** Hash of what the request asked for: the same key with another body is refused (422). */
  fingerprint: string;
  state: 'pending' | 'done';
  jobId?: string;
  /** The status code the first request was answered with (202, or 200 when it finished within ?wait). */
  status?: number;
}

export abstract class IdempotencyStore {
  /**
   * Claims `key` for a request with `fingerprint` for `ttlMs` (a short hold: a request that dies
   * while admitting frees its key when it lapses). Returns null when the key was free and is now
   * this request's, else the record that holds it.
   */
  abstract claim(key: string, fingerprint: string, ttlMs: number): Promise<IdempotencyRecord | null>;
  /** The claiming request made its job: the key answers with it for `ttlMs` (IDEMPOTENCY_TTL_MS). */
  abstract complete(key: string, done: { fingerprint: string; jobId: string; status: number }, ttlMs: number): Promise<void>;
  /** The claiming request made no job (refused, failed): the key is free again, unless another request holds it. */
  abstract release(key: string, fingerprint: string): Promise<void>;
}
