import { describe, expect, it } from 'vitest';
import type { TaskRecord } from './job-data';
import { TaskReads } from './task-reads';

/** A store read that answers when told to, recording what each call asked for. */
function controlledRead() {
  const calls: number[][] = [];
  const answers: ((fail?: Error) => void)[] = [];
  const read = (indexes: number[]) => {
    calls.push(indexes);
    return new Promise<TaskRecord[]>((resolve, reject) => {
      answers.push((fail) => (fail ? reject(fail) : resolve(indexes.filter((i) => i < 100).map((index) => ({ index, input: index, state: 'completed' as const })))));
    });
  };
  return { read, calls, answer: (fail?: Error) => answers.shift()!(fail) };
}

describe('TaskReads', () => {
  it('reads the tasks asked for in one turn together, and those asked meanwhile in one next read', async () => {
    const store = controlledRead();
    const reads = new TaskReads(store.read);
    const first = [reads.get(3), reads.get(1), reads.get(3)];
    await Promise.resolve();
    expect(store.calls).toEqual([[3, 1]]);
    const later = [reads.get(7), reads.get(200), reads.get(8)];
    await Promise.resolve();
    expect(store.calls).toHaveLength(1); // nothing sent while a read is out
    store.answer();
    expect((await Promise.all(first)).map((record) => record?.index)).toEqual([3, 1, 3]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.calls).toEqual([
      [3, 1],
      [7, 200, 8],
    ]);
    store.answer();
    expect((await Promise.all(later)).map((record) => record?.index)).toEqual([7, undefined, 8]);
  });

  it('fails every waiter of a read that fails, and goes on with the next ones', async () => {
    const store = controlledRead();
    const reads = new TaskReads(store.read);
    const failing = Promise.allSettled([reads.get(1), reads.get(2)]);
    await Promise.resolve();
    const next = reads.get(5);
    store.answer(new Error('store broke'));
    expect((await failing).map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    await new Promise((resolve) => setImmediate(resolve));
    store.answer();
    expect((await next)?.index).toBe(5);
  });
});
