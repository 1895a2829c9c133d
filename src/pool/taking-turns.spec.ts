import { describe, expect, it } from 'vitest';
import { TakingTurns } from './taking-turns';

/** A piece of work that ends when the test says. */
function piece() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { done, finish };
}

describe('TakingTurns', () => {
  it('runs one piece at a time, each owner in order, the owners round robin', async () => {
    const turns = new TakingTurns();
    const started: string[] = [];
    const pieces = new Map<string, ReturnType<typeof piece>>();
    const submit = (owner: string, name: string) =>
      turns.run(owner, () => {
        started.push(name);
        const p = piece();
        pieces.set(name, p);
        return p.done;
      });
    const all = [submit('a', 'a1'), submit('a', 'a2'), submit('a', 'a3'), submit('b', 'b1'), submit('c', 'c1'), submit('b', 'b2')];
    expect(turns.queued).toBe(5);
    for (const name of ['a1', 'a2', 'b1', 'c1', 'a3', 'b2']) {
      await new Promise((resolve) => setImmediate(resolve));
      expect(started.at(-1)).toBe(name);
      pieces.get(name)!.finish();
    }
    await Promise.all(all);
    expect(started).toEqual(['a1', 'a2', 'b1', 'c1', 'a3', 'b2']);
    expect(turns.queued).toBe(0);
  });

  it('drops a waiting piece whose signal aborts, and passes the turn on after a piece that throws', async () => {
    const turns = new TakingTurns();
    const first = piece();
    const running = turns.run('a', () => first.done);
    const controller = new AbortController();
    const dropped = turns.run('b', async () => 'never', controller.signal);
    const failing = turns.run('c', async () => {
      throw new Error('boom');
    });
    const last = turns.run('d', async () => 'ran');
    controller.abort(new Error('gone'));
    await expect(dropped).rejects.toThrow('gone');
    first.finish();
    await running;
    await expect(failing).rejects.toThrow('boom');
    await expect(last).resolves.toBe('ran');
  });
});
