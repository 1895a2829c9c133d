import { int } from '../config/setting-types';

/** The Fibonacci kind's settings, part of the one config schema (src/config/config.schema.ts). */
export const fibonacciSettings = {
  FIB_MAX_N: int(1, 100_000_000, 10_000_000).describe('Largest n a Fibonacci request may ask for.'),
  FIB_MAX_NUMBERS: int(1, 10_000_000, 500_000).describe('Most numbers one Fibonacci request (a list or a range) may hold.'),
  FIB_MAX_RESULT_BYTES: int(1_024, 16 * 1024 ** 3, 512 * 1024 ** 2).describe('Decimal digits one Fibonacci job may produce, estimated before it starts: a bigger job is refused.'),
};
