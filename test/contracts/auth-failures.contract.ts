import { describe, expect, it } from 'vitest';
import type { AuthFailures } from '../../src/auth/auth-failures';

/**
 * What the HTTP guard, the metrics guard and the WebSocket upgrade rely on, whatever keeps the
 * count (MemoryAuthFailures, RedisAuthFailures): per address, fixed windows, blocked from the
 * max-th failure until the window ends. `failures(max, windowMs)` is called once per test.
 */
export function authFailuresContract(name: string, failures: (max: number, windowMs: number) => AuthFailures): void {
  let n = 0;
  const uniqueAddress = () => `10.${process.pid % 256}.${Date.now() % 256}.${n++}`;

  describe(`AuthFailures contract: ${name}`, () => {
    it('blocks an address once it reaches the limit, for what is left of its window, and only that address', async () => {
      const counter = failures(3, 60_000);
      const [guesser, other] = [uniqueAddress(), uniqueAddress()];
      for (let i = 0; i < 2; i++) await counter.record(guesser);
      expect(await counter.retryAfter(guesser)).toBe(0);
      await counter.record(guesser);
      const wait = await counter.retryAfter(guesser);
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(60);
      expect(await counter.retryAfter(other)).toBe(0);
      expect(counter.message).toMatch(/AUTH_FAILURES_MAX 3 per 60000 ms/);
    });

    it('lets the address try again once its window has ended', async () => {
      const counter = failures(1, 300);
      const address = uniqueAddress();
      await counter.record(address);
      expect(await counter.retryAfter(address)).toBeGreaterThan(0);
      const deadline = Date.now() + 10_000;
      while ((await counter.retryAfter(address)) > 0 && Date.now() < deadline) await new Promise((wake) => setTimeout(wake, 50));
      expect(await counter.retryAfter(address)).toBe(0);
      // A new window starts from zero.
      await counter.record(address);
      expect(await counter.retryAfter(address)).toBeGreaterThan(0);
    });

    it('counts concurrent failures exactly once each', async () => {
      const [atLimit, belowLimit] = [failures(40, 60_000), failures(41, 60_000)];
      const address = uniqueAddress();
      await Promise.all(Array.from({ length: 40 }, () => atLimit.record(address)));
      expect(await atLimit.retryAfter(address)).toBeGreaterThan(0);
      // Below a limit of 41 the same 40 concurrent failures leave the address free: none counted twice.
      const fresh = uniqueAddress();
      await Promise.all(Array.from({ length: 40 }, () => belowLimit.record(fresh)));
      expect(await belowLimit.retryAfter(fresh)).toBe(0);
    });
  });
}
