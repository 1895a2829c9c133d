import { describe, expect, it } from 'vitest';
import { estimateResultBytes } from './fibonacci.planner';
import { validNumbers } from './fibonacci-body.pipe';
import { fibonacciRequestSchema } from './fibonacci.schema';

const limits = { maxN: 1_000, maxNumbers: 100, maxResultBytes: 20_000 };
const schema = fibonacciRequestSchema(limits);

/** The issues of a rejected body as `path: message`, which is what the API reports. */
function issues(body: unknown): string[] {
  const parsed = schema.safeParse(body);
  expect(parsed.success, `expected ${JSON.stringify(body)} to be rejected`).toBe(false);
  return parsed.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('fibonacciRequestSchema accepts', () => {
  it('a list of numbers as given, order and duplicates kept', () => {
    expect(schema.parse({ numbers: [5, 0, 5, 1_000] })).toEqual([5, 0, 5, 1_000]);
  });

  it('a range, expanded inclusively', () => {
    expect(schema.parse({ range: { from: 3, to: 7 } })).toEqual([3, 4, 5, 6, 7]);
    expect(schema.parse({ range: { from: 9, to: 9 } })).toEqual([9]);
  });

  it('exactly maxNumbers numbers, and a range of exactly maxNumbers', () => {
    expect(schema.parse({ numbers: new Array(100).fill(1) })).toHaveLength(100);
    expect(schema.parse({ range: { from: 0, to: 99 } })).toHaveLength(100);
  });
});

describe('fibonacciRequestSchema rejects', () => {
  it.each([
    ['a non-integer', { numbers: [1, 2.5] }, 'numbers.1: must be an integer'],
    ['a negative number', { numbers: [-1] }, 'numbers.0: must be >= 0'],
    ['a string instead of a number', { numbers: ['7'] }, 'numbers.0: must be a number'],
    ['numbers that is not an array', { numbers: 7 }, 'numbers: must be an array of integers'],
    ['an empty list', { numbers: [] }, 'numbers: must not be empty'],
    ['neither numbers nor range', {}, 'numbers: give exactly one of "numbers" or "range"'],
    ['both numbers and range', { numbers: [1], range: { from: 1, to: 2 } }, 'numbers: give exactly one of "numbers" or "range"'],
    ['from > to', { range: { from: 9, to: 3 } }, 'range.from: from must be <= to'],
    ['a string range bound', { range: { from: '1', to: 3 } }, 'range.from: must be a number'],
    ['a missing range bound', { range: { from: 1 } }, 'range.to: must be a number'],
    ['a body that is not an object', [1, 2], ': body must be a JSON object'],
  ])('%s', (_what, body, expected) => {
    expect(issues(body)).toEqual([expected]);
  });

  it('an n over maxN, naming FIB_MAX_N', () => {
    expect(issues({ numbers: [1_001] })).toEqual(['numbers.0: must be <= 1000 (limit FIB_MAX_N)']);
    expect(issues({ range: { from: 0, to: 1_001 } })).toContain('range.to: must be <= 1000 (limit FIB_MAX_N)');
  });

  it('too many numbers, naming FIB_MAX_NUMBERS', () => {
    expect(issues({ numbers: new Array(101).fill(1) })).toEqual(['numbers: at most 100 numbers (limit FIB_MAX_NUMBERS)']);
    expect(issues({ range: { from: 0, to: 100 } })).toEqual(['range: a range may hold at most 100 numbers (limit FIB_MAX_NUMBERS)']);
  });

  it('results over maxResultBytes, naming FIB_MAX_RESULT_BYTES and the estimate', () => {
    const numbers = Array.from({ length: 91 }, (_, i) => 1_000 - i); // 1000 down to 910
    const bytes = estimateResultBytes(numbers);
    expect(bytes).toBeGreaterThan(limits.maxResultBytes); // the fixture must really be over the limit
    expect(issues({ numbers })).toEqual([`numbers: results would take about ${bytes} bytes, over 20000 (limit FIB_MAX_RESULT_BYTES)`]);
    expect(issues({ range: { from: 910, to: 1_000 } })).toEqual([`range: results would take about ${bytes} bytes, over 20000 (limit FIB_MAX_RESULT_BYTES)`]);
  });

  it('unknown keys, at the top and inside range', () => {
    const top = schema.safeParse({ numbers: [1], extra: true });
    expect(top.error?.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['extra'], path: [] })]);
    const nested = schema.safeParse({ range: { from: 1, to: 2, step: 1 } });
    expect(nested.error?.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['step'], path: ['range'] })]);
  });

  it('a huge range cheaply, without expanding it to estimate result bytes', () => {
    // Regression: the byte estimate used to expand the already-rejected range, so one tiny body
    // with FIB_MAX_N at its 1e8 bound held the event loop ~15 s and took >1 GB.
    const wide = fibonacciRequestSchema({ maxN: 100_000_000, maxNumbers: 500_000, maxResultBytes: 1 << 29 });
    const started = performance.now();
    const parsed = wide.safeParse({ range: { from: 0, to: 100_000_000 } });
    expect(parsed.error?.issues.map((i) => i.message)).toEqual(['a range may hold at most 500000 numbers (limit FIB_MAX_NUMBERS)']);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('validNumbers (the pipe fast path) agrees with the schema', () => {
  const limits = { maxN: 1_000, maxNumbers: 5, maxResultBytes: 1_000 };
  const schema = fibonacciRequestSchema(limits);
  const bodies: unknown[] = [
    { numbers: [0, 1, 1_000] },
    { numbers: [1, 2, 3, 4, 5, 6] },
    { numbers: [] },
    { numbers: [1.5] },
    { numbers: [-1] },
    { numbers: [1_001] },
    { numbers: ['1'] },
    { numbers: [1], extra: true },
    { range: { from: 1, to: 3 } },
    { numbers: [1_000, 1_000, 1_000, 1_000, 1_000] },
    [1, 2],
    null,
  ];
  it('accepts exactly what the schema accepts unchanged, and nothing else', () => {
    for (const body of bodies) {
      const fast = validNumbers(body, limits);
      const parsed = schema.safeParse(body);
      if (fast) expect(parsed.success && parsed.data, JSON.stringify(body)).toEqual(fast);
      else if (parsed.success && (body as { numbers?: unknown }).numbers) expect.fail(`the fast path refused a valid body ${JSON.stringify(body)}`);
    }
  });
});
