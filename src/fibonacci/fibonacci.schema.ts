import { z } from 'zod';
import { estimateResultBytes } from './fibonacci.planner';

export interface FibonacciLimits {
  maxN: number;
  maxNumbers: number;
  maxResultBytes: number;
}

/**
 * The request body of POST /fibonacci, `{"numbers": [...]}` or `{"range": {"from", "to"}}`,
 * validated against the configured limits and turned into the list of n to compute.
 */
export function fibonacciRequestSchema({ maxN, maxNumbers, maxResultBytes }: FibonacciLimits) {
  const n = z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(0, { error: 'must be >= 0' })
    .max(maxN, { error: `must be <= ${maxN} (limit FIB_MAX_N)` });
  const range = z
    .strictObject({ from: n, to: n })
    .refine((r) => r.from <= r.to, { error: 'from must be <= to', path: ['from'] })
    .refine((r) => r.to - r.from + 1 <= maxNumbers, { error: `a range may hold at most ${maxNumbers} numbers (limit FIB_MAX_NUMBERS)` });
  return z
    .strictObject(
      {
        numbers: z
          .array(n, { error: 'must be an array of integers' })
          .min(1, { error: 'must not be empty' })
          .max(maxNumbers, { error: `at most ${maxNumbers} numbers (limit FIB_MAX_NUMBERS)` })
          .optional(),
        range: range.optional(),
      },
      { error: (issue) => (issue.code === 'invalid_type' ? 'body must be a JSON object' : undefined) },
    )
    .superRefine((body, ctx) => {
      if ((body.numbers === undefined) === (body.range === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['numbers'], message: 'give exactly one of "numbers" or "range"' });
        return;
      }
      // Already rejected by the range rule above; expanding it would cost O(to - from) for nothing.
      if (body.range && body.range.to - body.range.from + 1 > maxNumbers) return;
      const bytes = estimateResultBytes(expand(body));
      if (bytes > maxResultBytes) {
        ctx.addIssue({
          code: 'custom',
          path: [body.numbers ? 'numbers' : 'range'],
          message: `results would take about ${bytes} bytes, over ${maxResultBytes} (limit FIB_MAX_RESULT_BYTES)`,
        });
      }
    })
    .transform(expand);
}

function expand(body: { numbers?: number[]; range?: { from: number; to: number } }): number[] {
  if (body.numbers) return body.numbers;
  const { from, to } = body.range!;
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** One item of a Fibonacci job's results. */
export const fibonacciResultSchema = z
  .object({
    index: z.int().describe('position in the request'),
    n: z.int(),
    state: z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']),
    value: z.string().optional().describe('F(n) exactly, as decimal (or hexadecimal with ?format=hex) text; with ?maxChars= a long value is its first and last digits around "…"'),
    shortened: z.boolean().optional().describe('true when ?maxChars= cut the value'),
    digits: z.int().optional().describe('decimal digits of F(n)'),
    ms: z.number().optional().describe('compute time in the worker'),
    error: z.string().optional().describe('why the task failed'),
  })
  .meta({ id: 'FibonacciResult' });
