/**
 * The in-process side of each comparison: the service's own pure modules, run on this thread
 * with no HTTP, no pool and no message passing, so the gap to the API is what those cost.
 */
import { fib } from '../../src/fibonacci/fib-bigint';
import { computeChunk, type FibValue } from '../../src/fibonacci/fib-chunk';
import { fibGmp, type Gmp } from '../../src/fibonacci/fib-gmp';
import { since } from './stats';

/** computeChunk over the numbers, as one worker task would run them; values by input index. */
export function computeAll(numbers: readonly number[], gmp: Gmp): FibValue[] {
  const values: FibValue[] = new Array(numbers.length);
  const failures: string[] = [];
  computeChunk(
    numbers.map((n, index) => ({ index, n })),
    gmp,
    { onDone: (index, value) => (values[index] = value), onFail: (index, error) => failures.push(`n=${numbers[index]}: ${error}`) },
  );
  if (failures.length > 0) throw new Error(`in-process computeChunk failed: ${failures.slice(0, 5).join('; ')}`);
  return values;
}

/** Case a): compute, then serialise result items shaped like the API's. */
export function computeAndSerialise(numbers: readonly number[], gmp: Gmp) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const values = computeAll(numbers, gmp);
  const computeMs = since(start);
  const json = JSON.stringify(values.map((v, index) => ({ index, n: v.n, state: 'completed', value: v.value, digits: v.digits, ms: v.ms })));
  const ms = since(start);
  return { ms, value: { cpuMs: cpuSince(cpu), computeMs, serialiseMs: ms - computeMs, jsonBytes: json.length, itemMs: sumMs(values), decimals: values.map((v) => v.value) } };
}

/** Case b): the computation alone, with the engine the worker picks (gmp from GMP_MIN_N). */
export function computeOnly(numbers: readonly number[], gmp: Gmp) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const values = computeAll(numbers, gmp);
  return { ms: since(start), value: { cpuMs: cpuSince(cpu), itemMs: sumMs(values), decimals: values.map((v) => v.value) } };
}

/** CPU time of this thread's process since `from`: unlike wall time, not inflated by busy neighbours. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(from);
  return (user + system) / 1000;
}

/** The per-number `ms` computeChunk reports, summed: the same figure the workers report per item. */
export function sumMs(values: readonly { ms?: number }[]): number {
  return values.reduce((sum, v) => sum + (v.ms ?? 0), 0);
}

export function bigintDecimal(n: number) {
  const start = performance.now();
  const value = fib(n).toString();
  return { ms: since(start), value };
}

export function gmpDecimal(gmp: Gmp, n: number) {
  const start = performance.now();
  const value = fibGmp(gmp, n).decimal;
  return { ms: since(start), value };
}

/** F(0..max) by plain addition: a check that shares no code with the service. */
export function fibTable(max: number): string[] {
  const table: string[] = [];
  let [a, b] = [0n, 1n];
  for (let n = 0; n <= max; n++) {
    table.push(a.toString());
    [a, b] = [b, a + b];
  }
  return table;
}

/** Decimal digits of F(n) for n >= 2, from Binet's formula: floor(n·log10 φ − log10 √5) + 1. */
export function expectedDigits(n: number): number {
  return Math.floor(n * Math.log10((1 + Math.sqrt(5)) / 2) - Math.log10(Math.sqrt(5))) + 1;
}
