import { describe, expect, it } from 'vitest';
import type { AuthFailures } from '../../src/auth/auth-failures';
import { describeCapability, needs } from './capabilities';
import { expectWindowKeepsItsEnd, SHORT_WINDOW_MS } from './window-timing';

/**
 * What the HTTP guard, the metrics guard and the WebSocket upgrade rely on, whatever keeps the
 * count (MemoryAuthFailures, RedisAuthFailures): per address, fixed windows, blocked from the
 * max-th failure until the window ends, requests judged in the order they are made.
 */
export interface AuthFailuresHarness {
  /** The implementation, as the skip reasons name it. */
  name: string;
  capabilities: {
    /** Counters of several instances on one backend count together (then `peer()` makes another instance's). */
    sharedAcrossInstances: boolean;
  };
  /** A counter; called once per test. */
  failures(max: number, windowMs: number): AuthFailures;
  peer?(max: number, windowMs: number): Promise<AuthFailures>;
}

export function authFailuresContract(harness: AuthFailuresHarness): void {
  const { name, capabilities } = harness;
  const failures = (max: number, windowMs: number) => harness.failures(max, windowMs);
  let n = 0;
  const uniqueAddress = () => `10.${process.pid % 256}.${Date.now() % 256}.${n++}`;

  describe(`AuthFailures contract: ${name}`, () => {
    it('blocks an address once it reaches the limit, for what is left of its window, and only that address', async () => {
      const counter = failures(3, 60_000);
      const [guesser, other] = [uniqueAddress(), uniqueAddress()];
      for (let i = 0; i < 2; i++) expect(await counter.fail(guesser)).toBe(0);
      expect(await counter.retryAfter(guesser)).toBe(0);
      // The failure that reaches the limit is still answered as a failure; the next request is not.
      expect(await counter.fail(guesser)).toBe(0);
      const wait = await counter.retryAfter(guesser);
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(60);
      expect(await counter.retryAfter(other)).toBe(0);
      expect(counter.message).toMatch(/AUTH_FAILURES_MAX 3 per 60000 ms/);
    });

    it('answers a failure while blocked with the wait, without counting it (the window does not grow)', async () => {
      const counter = failures(1, SHORT_WINDOW_MS);
      await expectWindowKeepsItsEnd(() => {
        const address = uniqueAddress();
        return {
          async open() {
            expect(await counter.fail(address)).toBe(0);
            return counter.retryAfter(address);
          },
          // Blocked failures, then a good key: each answers what is left of the first failure's window.
          again: async () => [await counter.fail(address), await counter.fail(address), await counter.retryAfter(address)],
        };
      });
    });

    it('judges requests in the order they are made: a good key right behind a burst of failures is refused', async () => {
      const counter = failures(5, 60_000);
      const address = uniqueAddress();
      const burst = Array.from({ length: 5 }, () => counter.fail(address));
      const goodKeyAfter = counter.retryAfter(address);
      expect(await Promise.all(burst)).toEqual([0, 0, 0, 0, 0]);
      expect(await goodKeyAfter).toBeGreaterThan(0);
    });

    it('lets the address try again once its window has ended', async () => {
      const counter = failures(1, 300);
      const address = uniqueAddress();
      await counter.fail(address);
      expect(await counter.retryAfter(address)).toBeGreaterThan(0);
      const deadline = Date.now() + 10_000;
      while ((await counter.retryAfter(address)) > 0 && Date.now() < deadline) await new Promise((wake) => setTimeout(wake, 50));
      expect(await counter.retryAfter(address)).toBe(0);
      // A new window starts from zero.
      expect(await counter.fail(address)).toBe(0);
      expect(await counter.retryAfter(address)).toBeGreaterThan(0);
    });

    it('counts concurrent failures exactly once each, and none past the limit', async () => {
      const counter = failures(40, 60_000);
      const address = uniqueAddress();
      const answers = await Promise.all(Array.from({ length: 50 }, () => counter.fail(address)));
      expect(answers.filter((wait) => wait === 0)).toHaveLength(40);
      expect(answers.filter((wait) => wait > 0)).toHaveLength(10);
    });

    describeCapability(name, 'sharedAcrossInstances', capabilities.sharedAcrossInstances, () => {
      it('shares the count between instances: failures spread over two instances block the address on both', async () => {
        const [a, b] = [failures(4, 60_000), await needs(harness.peer, 'peer()').call(harness, 4, 60_000)];
        const address = uniqueAddress();
        await a.fail(address);
        await b.fail(address);
        await a.fail(address);
        expect(await a.retryAfter(address)).toBe(0);
        await b.fail(address);
        expect(await a.retryAfter(address)).toBeGreaterThan(0);
        expect(await b.retryAfter(address)).toBeGreaterThan(0);
      });
    });
  });
}
