/**
 * Failed authentications per client address, in fixed windows. Once an address reaches the
 * limit, every request of it that needs a key is refused until its window ends, a correct key
 * included: refusing only bad keys would still let a guesser learn which guess was right.
 *
 * Callers check the credential first (constant time, local) and then make one call: `fail()` for
 * a bad one, `retryAfter()` for a good one. So the shared count sees each request in the order it
 * was judged: a good guess sent together with a burst of bad ones is refused once the bad ones
 * ahead of it reach the limit, as in a single process.
 *
 * The port (an abstract class, so it is also the injection token): MemoryAuthFailures counts in
 * this process, RedisAuthFailures (src/cluster) across the cluster, so that spreading guesses
 * over the instances buys nothing. Async, since the shared count is a round trip.
 */
export abstract class AuthFailures {
  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** Seconds until the address may try again, or 0 when it is not blocked. */
  abstract retryAfter(address: string): Promise<number>;

  /**
   * A failed authentication: counted, unless the address is blocked already (then it is answered
   * 429, not counted). Returns the seconds it is blocked for, or 0 when this failure was counted.
   */
  abstract fail(address: string): Promise<number>;

  get message(): string {
    return `too many failed authentications from this address (AUTH_FAILURES_MAX ${this.max} per ${this.windowMs} ms)`;
  }

  close(): void {}
}

/** Whole seconds, at least 1, of what remains of a window. */
export const secondsLeft = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
