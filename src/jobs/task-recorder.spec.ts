import { afterEach, describe, expect, it } from 'vitest';
import { memoryBackend } from '../backends/memory/memory-backend';
import type { AppConfig } from '../config/app-config';
import type { JobKind } from './job-kind';
import { JobKinds } from './job-kinds';
import { JobObservers } from './job-observers';
import { OutageGuard } from './outage-guard';
import { TaskRecorder } from './task-recorder';

/** A recorder on the real memory store and bus, with one job of three tasks. */
async function setup() {
  const backend = memoryBackend({ retention: { maxAgeMs: 60_000, maxCount: 10, maxBytes: 1 << 20 }, authFailures: { max: 5, windowMs: 60_000 } });
  const kinds = new JobKinds();
  kinds.register({ name: 'fibonacci', summarize: (n: number) => ({ n }), sizeOf: (r: string) => r.length } as unknown as JobKind);
  const recorder = new TaskRecorder({ PROGRESS_FLUSH_MS: 10 } as AppConfig, backend.store, backend.bus, kinds, new JobObservers(), new OutageGuard(backend));
  const { version } = await backend.store.admission('alice');
  const inputs = [10, 20, 30];
  const created = await backend.store.create({ id: 'j', kind: 'fibonacci', callerId: 'alice', owner: 'alice', reservation: { tasks: 3, resultBytes: 100 }, createdAt: Date.now() }, inputs, version);
  expect(created).toBe(true);
  const job = { id: 'j', kind: 'fibonacci' };
  const record = (updates: Parameters<TaskRecorder['record']>[1]) => recorder.record(job, updates, (index) => inputs[index]);
  return { backend, recorder, record };
}

describe('TaskRecorder: records of finished tasks handed to the watcher', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('hands out what it stored finished, as the store holds it, once each; nothing unfinished or not stored by it', async () => {
    const { backend, recorder, record } = await setup();
    close = () => backend.store.close();
    const unwatch = recorder.watchFinished('j', () => {});
    record([
      { index: 0, state: 'completed', result: '55' },
      { index: 1, state: 'running', progress: 0.5 },
      { index: 2, state: 'failed', error: 'no' },
    ]);
    // Not stored yet: nothing to hand out (the caller reads the store after a flush).
    expect(recorder.takeStored('j', 0)).toBeUndefined();
    await recorder.flush('j');
    const stored = await backend.store.tasksAt('j', [0, 2]);
    expect(recorder.takeStored('j', 0)).toEqual(stored[0]);
    expect(recorder.takeStored('j', 2)).toEqual(stored[1]);
    expect(recorder.takeStored('j', 0), 'handed out once').toBeUndefined();
    expect(recorder.takeStored('j', 1), 'running: not finished').toBeUndefined();
    // A finished task never changes: a later update that did not take effect is not handed out.
    record([{ index: 0, state: 'failed', error: 'late' }]);
    await recorder.flush('j');
    expect(recorder.takeStored('j', 0)).toBeUndefined();
    expect((await backend.store.tasksAt('j', [0]))[0]).toMatchObject({ state: 'completed', result: '55' });
    unwatch();
  });

  it('keeps nothing for a job nobody watches, and forgets it all when the last watcher goes', async () => {
    const { backend, recorder, record } = await setup();
    close = () => backend.store.close();
    record([{ index: 0, state: 'completed', result: '55' }]);
    await recorder.flush('j');
    expect(recorder.takeStored('j', 0)).toBeUndefined();
    const unwatch = recorder.watchFinished('j', () => {});
    record([{ index: 1, state: 'completed', result: '6765' }]);
    await recorder.flush('j');
    unwatch();
    expect(recorder.takeStored('j', 1)).toBeUndefined();
  });
});
