import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fib } from '../src/fibonacci/fib-bigint';
import { type RunningApp, startApp } from './support/app';

/**
 * A tiny batch (at most 16 numbers, none above 2,000) is computed on the main thread: a worker
 * round trip costs more than the BigInt work. Anything bigger still goes to the pool.
 */
describe('tiny Fibonacci batches', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(() => running?.close());

  const poolCompleted = async () => (await request(running.app.getHttpServer()).get('/pool')).body.completed as number;
  const submit = async (numbers: number[]) => {
    const res = await request(running.app.getHttpServer()).post('/fibonacci?wait=10000').send({ numbers });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  it('answers a tiny batch exactly, without a pool task', async () => {
    const before = await poolCompleted();
    const numbers = [0, 1, 2, 90, 2_000, 1_999, 7, 7];
    const body = await submit(numbers);
    expect(body).toMatchObject({ status: 'completed', completed: numbers.length, failed: 0 });
    expect(body.results.items.map((item: { n: number; value: string }) => [item.n, item.value])).toEqual(numbers.map((n) => [n, fib(n).toString()]));
    expect(await poolCompleted()).toBe(before);
  });

  it('sends a batch past either bound to the pool', async () => {
    for (const numbers of [[2_001], Array.from({ length: 17 }, (_, i) => i)]) {
      const before = await poolCompleted();
      const body = await submit(numbers);
      expect(body.results.items.map((item: { value: string }) => item.value)).toEqual(numbers.map((n) => fib(n).toString()));
      expect(await poolCompleted()).toBeGreaterThan(before);
    }
  });
});
