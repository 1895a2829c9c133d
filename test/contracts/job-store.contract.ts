/**
 * The JobStore contract (keyv's test-suite idea): one set of behaviours, run against every store
 * (test/job-store.contract.spec.ts calls it for the memory and the Redis store).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type JobHeader, type JobPage, type JobQuery, LIST_SCAN_BUDGET, type NewJob, type RetentionPolicy } from '../../src/jobs/job-data';
import type { JobStore } from '../../src/jobs/job.store';
import { describeCapability, needs } from './capabilities';

export interface StoreUnderTest {
  store: JobStore;
  /** With sharedAcrossInstances: a second store on the same backend (another instance), which must see the first one's writes. */
  peer?(): Promise<JobStore>;
  /**
   * With countsWork: how much the backend has read and written so far (Redis: commands run, those
   * inside scripts included; memory: job records looked up or walked), to show what a call costs.
   */
  work?(): Promise<number>;
  /** Closes the stores and frees what they hold in the backend. */
  cleanup(): Promise<void>;
}

export type MakeStore = (retention: RetentionPolicy) => Promise<StoreUnderTest>;

export interface JobStoreCapabilities {
  /** Stores of several instances on one backend share their jobs (then `peer()` makes one). */
  sharedAcrossInstances: boolean;
  /** The harness can count the backend's work (then `work()` does). */
  countsWork: boolean;
}

const roomy: RetentionPolicy = { maxAgeMs: 3_600_000, maxCount: 1_000, maxBytes: 1 << 30 };
const reservation = { tasks: 3, resultBytes: 100 };

/** A job of `owner`, counted for admission under the same id. */
const of = (owner: string): Partial<NewJob> => ({ owner, callerId: owner || 'nobody' });

/**
 * What reading one owner's jobs may cost, in work() units, when it has a handful: walking every
 * tenant's jobs instead costs at least one unit per job, and the cost case stores 200 of another.
 */
const CHEAP = 30;

function newJob(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return { id, kind: 'fibonacci', callerId: 'alice', owner: 'alice', reservation, createdAt: Date.now(), ...overrides };
}

/** Creates a job the way admission does: read the version, then create at it. */
async function create(store: JobStore, id: string, inputs: unknown[] = [10, 20, 30], overrides: Partial<NewJob> = {}): Promise<void> {
  const { version } = await store.admission(overrides.callerId ?? 'alice');
  expect(await store.create(newJob(id, { reservation: { ...reservation, tasks: inputs.length }, ...overrides }), inputs, version)).toBe(true);
}

/** Waits for a condition with a bounded poll (for time-based behaviour: lease and age expiry). */
async function until(condition: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((wake) => setTimeout(wake, 50));
  }
}

export function jobStoreContract(name: string, make: MakeStore, capabilities: JobStoreCapabilities): void {
  describe(`JobStore contract: ${name}`, () => {
    const opened: StoreUnderTest[] = [];
    async function open(retention: Partial<RetentionPolicy> = {}): Promise<JobStore> {
      const made = await make({ ...roomy, ...retention });
      opened.push(made);
      return made.store;
    }
    afterEach(async () => {
      for (const made of opened.splice(0)) await made.cleanup();
    });
    const ids = async (store: JobStore) => (await store.list({ limit: 1_000 })).items.map((job) => job.id);

    describe('create', () => {
      it('stores a queued job at seq 1 with every task queued', async () => {
        const store = await open();
        const createdAt = Date.now();
        await create(store, 'j', [1, 2, 3], { params: { depth: 2, nested: { a: [1] } }, createdAt, kind: 'crawl' });
        const header = await store.get('j');
        expect(header).toEqual({
          id: 'j',
          kind: 'crawl',
          owner: 'alice',
          callerId: 'alice',
          params: { depth: 2, nested: { a: [1] } },
          reservation: { ...reservation, tasks: 3 },
          status: 'queued',
          createdAt,
          total: 3,
          completed: 0,
          failed: 0,
          cancelled: 0,
          resultBytes: 0,
          seq: 1,
        } satisfies JobHeader);
        expect(await store.snapshot('j')).toEqual({ header, tasks: 'qqq', progress: {} });
        expect(await store.inputs('j', 0, 10)).toEqual([1, 2, 3]);
        expect(await store.unfinished()).toEqual(['j']);
      });

      it('keeps a job without owner or params without those fields', async () => {
        const store = await open();
        await create(store, 'j', [1], { owner: undefined, callerId: '10.0.0.1' });
        const header = await store.get('j');
        expect(header).not.toHaveProperty('owner');
        expect(header).not.toHaveProperty('params');
        expect(header?.callerId).toBe('10.0.0.1');
      });

      it('counts the reservation in the caller holdings and the queue depth, changing the version', async () => {
        const store = await open();
        const before = await store.admission('alice');
        expect(before.held).toEqual({ jobs: 0, resultBytes: 0, counters: {} });
        expect(before.queued).toBe(0);
        const wants = { tasks: 50, resultBytes: 1_000, counters: { 'crawl.pages': 50, 'crawl.fetches': 4 } };
        expect(await store.create(newJob('a', { reservation: wants, kind: 'crawl' }), ['http://x/'], before.version)).toBe(true);
        const after = await store.admission('alice');
        expect(after.held).toEqual({ jobs: 1, resultBytes: 1_000, counters: { 'crawl.pages': 50, 'crawl.fetches': 4 } });
        expect(after.queued).toBe(50);
        expect(after.version).not.toBe(before.version);
        // Another caller holds nothing but sees the shared queue depth.
        expect(await store.admission('bob')).toMatchObject({ held: { jobs: 0, resultBytes: 0 }, queued: 50 });
        expect(await store.create(newJob('b', { reservation: wants }), [1], after.version)).toBe(true);
        expect((await store.admission('alice')).held).toEqual({ jobs: 2, resultBytes: 2_000, counters: { 'crawl.pages': 100, 'crawl.fetches': 8 } });
      });

      it('refuses a create at a stale version without writing anything', async () => {
        const store = await open();
        const { version } = await store.admission('alice');
        await create(store, 'first');
        const figures = await store.admission('alice');
        expect(await store.create(newJob('late'), [1, 2], version)).toBe(false);
        expect(await store.get('late')).toBeUndefined();
        expect(await store.admission('alice')).toEqual(figures);
        expect(await ids(store)).toEqual(['first']);
      });

      it('lets exactly one of two creates racing at one version through', async () => {
        const store = await open();
        const { version } = await store.admission('alice');
        const results = await Promise.all([store.create(newJob('x'), [1], version), store.create(newJob('y'), [1], version)]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await store.admission('alice')).held.jobs).toBe(1);
      });

      it('holds a 100k-task job and answers a snapshot and a page of it', async () => {
        const store = await open();
        const inputs = Array.from({ length: 100_000 }, (_, i) => i);
        await create(store, 'big', inputs);
        const updates = Array.from({ length: 5_000 }, (_, i) => ({ index: i * 20, state: 'completed' as const, result: `r${i}`, bytes: 2 }));
        const applied = await store.apply('big', updates);
        expect(applied.changed).toHaveLength(5_000);
        expect(applied.header).toMatchObject({ completed: 5_000, resultBytes: 10_000, total: 100_000 });
        const snapshot = await store.snapshot('big');
        expect(snapshot?.tasks).toHaveLength(100_000);
        expect(snapshot?.tasks.slice(0, 21)).toBe(`c${'q'.repeat(19)}c`);
        const page = await store.tasks('big', 99_000, 1_000);
        expect(page).toHaveLength(1_000);
        expect(page[0]).toEqual({ index: 99_000, input: 99_000, state: 'completed', result: 'r4950' });
        expect(page[1]).toEqual({ index: 99_001, input: 99_001, state: 'queued' });
        expect(page[20]).toEqual({ index: 99_020, input: 99_020, state: 'completed', result: 'r4951' });
      });
    });

    describe('apply', () => {
      it('applies transitions in order, counting finished tasks and storing results and errors', async () => {
        const store = await open();
        await create(store, 'j', ['a', 'b', 'c', 'd']);
        const applied = await store.apply('j', [
          { index: 0, state: 'running' },
          { index: 0, state: 'completed', result: { value: 'A' }, bytes: 7 },
          { index: 1, state: 'failed', error: 'boom' },
          { index: 2, state: 'running', progress: 0.25 },
        ]);
        expect(applied.seq).toBe(2);
        expect(applied.changed).toEqual([
          { index: 0, state: 'running' },
          { index: 0, state: 'completed', result: { value: 'A' }, bytes: 7 },
          { index: 1, state: 'failed', error: 'boom' },
          { index: 2, state: 'running', progress: 0.25 },
        ]);
        expect(applied.header).toEqual({ status: 'queued', total: 4, completed: 1, failed: 1, cancelled: 0, resultBytes: 7 });
        expect(await store.snapshot('j')).toMatchObject({ header: { seq: 2, completed: 1, failed: 1 }, tasks: 'cfrq', progress: { 2: 0.25 } });
        expect(await store.tasks('j', 0, 4)).toEqual([
          { index: 0, input: 'a', state: 'completed', result: { value: 'A' } },
          { index: 1, input: 'b', state: 'failed', error: 'boom' },
          { index: 2, input: 'c', state: 'running' },
          { index: 3, input: 'd', state: 'queued' },
        ]);
      });

      it('ignores updates that do not change anything, and never changes a finished task', async () => {
        const store = await open();
        await create(store, 'j', [1, 2, 3]);
        await store.apply('j', [
          { index: 0, state: 'completed', result: 'first', bytes: 5 },
          { index: 1, state: 'running' },
        ]);
        const applied = await store.apply('j', [
          { index: -1, state: 'completed' },
          { index: 3, state: 'completed' },
          { index: 0, state: 'completed', result: 'again', bytes: 5 },
          { index: 0, state: 'failed', error: 'late crash' },
          { index: 0, state: 'running' },
          { index: 1, state: 'running' },
          { index: 2, state: 'queued' },
        ]);
        expect(applied).toEqual({ seq: 2, changed: [], header: { status: 'queued', total: 3, completed: 1, failed: 0, cancelled: 0, resultBytes: 5 } });
        expect(await store.tasks('j', 0, 3)).toEqual([
          { index: 0, input: 1, state: 'completed', result: 'first' },
          { index: 1, input: 2, state: 'running' },
          { index: 2, input: 3, state: 'queued' },
        ]);
        expect((await store.get('j'))?.seq).toBe(2);
      });

      it('records progress of a running task and drops it when the task finishes', async () => {
        const store = await open();
        await create(store, 'j', [1, 2]);
        await store.apply('j', [{ index: 0, state: 'running', progress: 0.1 }]);
        const applied = await store.apply('j', [
          { index: 0, state: 'running', progress: 0.5 },
          { index: 1, state: 'running', progress: 0.9 },
        ]);
        expect(applied.seq).toBe(3);
        expect(applied.changed).toHaveLength(2);
        expect((await store.snapshot('j'))?.progress).toEqual({ 0: 0.5, 1: 0.9 });
        await store.apply('j', [{ index: 0, state: 'completed', result: 1 }]);
        expect(await store.snapshot('j')).toMatchObject({ tasks: 'cr', progress: { 1: 0.9 } });
        expect((await store.snapshot('j'))?.progress).not.toHaveProperty('0');
      });

      it('keeps the last progress of a task that moved several times in one call', async () => {
        const store = await open();
        await create(store, 'j', [1, 2]);
        await store.apply('j', [
          { index: 0, state: 'running', progress: 0.5 },
          { index: 0, state: 'queued' },
          { index: 0, state: 'running', progress: 0.7 },
          { index: 1, state: 'running', progress: 0.2 },
          { index: 1, state: 'queued' },
        ]);
        expect(await store.snapshot('j')).toMatchObject({ tasks: 'rq', progress: { 0: 0.7 } });
        expect((await store.snapshot('j'))?.progress).not.toHaveProperty('1');
      });

      it('counts each task once when the same updates arrive twice (a pool task run again)', async () => {
        const store = await open();
        await create(store, 'j', [1, 2, 3]);
        const run = [
          { index: 0, state: 'completed' as const, result: 'x', bytes: 1 },
          { index: 1, state: 'failed' as const, error: 'e' },
          { index: 2, state: 'cancelled' as const },
        ];
        await store.apply('j', run);
        const again = await store.apply('j', run);
        expect(again.changed).toEqual([]);
        expect(again.header).toMatchObject({ completed: 1, failed: 1, cancelled: 1, resultBytes: 1 });
      });

      it('has no effect on an unknown job or a finished one', async () => {
        const store = await open();
        expect((await store.apply('nope', [{ index: 0, state: 'completed' }])).changed).toEqual([]);
        await create(store, 'j', [1, 2]);
        const done = await store.finish('j', 'failed', 'gave up', Date.now());
        const applied = await store.apply('j', [{ index: 0, state: 'completed', result: 'r', bytes: 3 }]);
        expect(applied.changed).toEqual([]);
        expect(applied.seq).toBe(done?.seq);
        expect(await store.tasks('j', 0, 2)).toEqual([
          { index: 0, input: 1, state: 'queued' },
          { index: 1, input: 2, state: 'queued' },
        ]);
        expect((await store.get('j'))?.resultBytes).toBe(0);
      });

      it('samples (time, tasks done) for the rate with the writes that finish tasks, on every read of the header', async () => {
        const store = await open();
        await create(store, 'j', ['a', 'b', 'c', 'd', 'e']);
        await store.apply('j', [{ index: 0, state: 'running' }]);
        expect((await store.get('j'))?.rateSamples).toBeUndefined();
        const before = Date.now();
        await store.apply('j', [
          { index: 0, state: 'completed', result: 1 },
          { index: 1, state: 'failed', error: 'boom' },
        ]);
        await store.apply('j', [{ index: 2, state: 'cancelled' }]);
        const [at, done] = (await store.get('j'))?.rateSamples ?? [];
        expect([at >= before && at <= Date.now(), done]).toEqual([true, 2]);
        await store.apply('j', [{ index: 3, state: 'completed', result: 1 }]);
        // Within a second of the one before, the newest sample moves rather than a new one piling up.
        await store.apply('j', [{ index: 4, state: 'completed', result: 1 }]);
        const samples = (await store.snapshot('j'))?.header.rateSamples ?? [];
        expect([samples.length, samples[0], samples.at(-1)]).toEqual([4, at, 4]);
        expect((await store.list({ offset: 0, limit: 1 })).items[0].rateSamples).toEqual(samples);
      });

      it('reports the summary set by setSummary in later writes', async () => {
        const store = await open();
        await create(store, 'j', [1]);
        await store.setSummary('j', { pages: 1, bytes: 2_000 });
        expect((await store.get('j'))?.summary).toEqual({ pages: 1, bytes: 2_000 });
        expect((await store.apply('j', [{ index: 0, state: 'running' }])).header.summary).toEqual({ pages: 1, bytes: 2_000 });
      });

      it('keeps snapshots consistent with their seq while writes race', async () => {
        const store = await open();
        const n = 200;
        await create(
          store,
          'j',
          Array.from({ length: n }, (_, i) => i),
        );
        const writes = Array.from({ length: n }, (_, i) => store.apply('j', [{ index: i, state: 'completed', result: i }]));
        const reads = Array.from({ length: 20 }, () => store.snapshot('j'));
        await Promise.all(writes);
        for (const snapshot of await Promise.all(reads)) {
          const done = [...(snapshot?.tasks ?? '')].filter((code) => code === 'c').length;
          expect(snapshot?.header.completed).toBe(done);
          expect(snapshot?.header.seq).toBe(1 + done);
        }
        expect((await store.get('j'))?.seq).toBe(1 + n);
      });
    });

    describe('queue depth and holdings', () => {
      it('lowers the depth per finished task and releases the rest and the holdings at finish, once', async () => {
        const store = await open();
        await create(store, 'j', [1, 2, 3, 4]);
        await create(store, 'other', [1], { callerId: 'bob', owner: 'bob' });
        expect((await store.admission('alice')).queued).toBe(5);
        await store.apply('j', [
          { index: 0, state: 'running' },
          { index: 1, state: 'completed' },
          { index: 2, state: 'failed' },
        ]);
        expect((await store.admission('alice')).queued).toBe(3);
        await store.apply('j', [{ index: 1, state: 'completed' }]);
        expect((await store.admission('alice')).queued).toBe(3);
        const finished = await store.finish('j', 'completed', undefined, Date.now());
        expect(finished?.status).toBe('completed');
        expect(await store.admission('alice')).toMatchObject({ held: { jobs: 0, resultBytes: 0 }, queued: 1 });
        expect(await store.finish('j', 'failed', 'again', Date.now())).toBeUndefined();
        expect(await store.admission('alice')).toMatchObject({ held: { jobs: 0 }, queued: 1 });
        expect((await store.admission('bob')).held.jobs).toBe(1);
      });

      it('never counts a job for more than its reservation (a crawl past its maxPages)', async () => {
        const store = await open();
        await create(store, 'j', [1, 2, 3], { reservation: { ...reservation, tasks: 2 } });
        expect((await store.admission('alice')).queued).toBe(2);
        await store.apply(
          'j',
          [0, 1, 2].map((index) => ({ index, state: 'completed' as const })),
        );
        expect((await store.admission('alice')).queued).toBe(0);
        await store.finish('j', 'completed', undefined, Date.now());
        expect((await store.admission('alice')).queued).toBe(0);
      });

      it('lowers the depth for tasks settled by the store', async () => {
        const store = await open();
        await create(store, 'j', [1, 2, 3]);
        await store.settle('j');
        expect((await store.admission('alice')).queued).toBe(0);
        await store.finish('j', 'cancelled', 'stop', Date.now());
        expect((await store.admission('alice')).queued).toBe(0);
      });
    });

    describe('settle', () => {
      it('cancels every unfinished task, inputs included, in one seq', async () => {
        const store = await open();
        await create(store, 'j', ['a', 'b', 'c', 'd']);
        await store.apply('j', [
          { index: 0, state: 'completed', result: 1 },
          { index: 2, state: 'running', progress: 0.5 },
        ]);
        const settled = await store.settle('j');
        expect(settled.seq).toBe(3);
        expect(settled.changed).toEqual([
          { index: 1, state: 'cancelled', input: 'b' },
          { index: 2, state: 'cancelled', input: 'c' },
          { index: 3, state: 'cancelled', input: 'd' },
        ]);
        expect(settled.header).toEqual({ status: 'queued', total: 4, completed: 1, failed: 0, cancelled: 3, resultBytes: 0 });
        expect(await store.snapshot('j')).toMatchObject({ tasks: 'cxxx', progress: {} });
        expect(await store.settle('j')).toEqual({ ...settled, changed: [] });
      });
    });

    describe('appendTasks and markSeen', () => {
      it('appends unseen keys while under maxTotal, still marking the rest seen', async () => {
        const store = await open();
        await create(store, 'c', ['http://x/'], { kind: 'crawl' });
        expect(await store.markSeen('c', ['http://x/'])).toBe(1);
        const appended = await store.appendTasks(
          'c',
          [
            { key: 'http://x/', input: 'dup' },
            { key: 'http://x/a', input: 'a' },
            { key: 'http://x/a', input: 'a again' },
            { input: 'no key' },
            { key: 'http://x/b', input: 'b' },
            { key: 'http://x/c', input: 'c' },
          ],
          4,
        );
        expect(appended).toEqual([
          { index: 1, input: 'a' },
          { index: 2, input: 'no key' },
          { index: 3, input: 'b' },
        ]);
        const header = await store.get('c');
        expect(header).toMatchObject({ total: 4, seq: 2 });
        expect((await store.snapshot('c'))?.tasks).toBe('qqqq');
        expect(await store.inputs('c', 1, 10)).toEqual(['a', 'no key', 'b']);
        // http://x/c came past maxTotal: not appended, but seen.
        expect(await store.markSeen('c', ['http://x/c', 'http://x/d'])).toBe(5);
        expect(await store.appendTasks('c', [{ key: 'http://x/e', input: 'e' }], 4)).toEqual([]);
        expect((await store.get('c'))?.seq).toBe(2);
        expect(await store.markSeen('c', [])).toBe(6);
      });

      it('appends nothing to an unknown or finished job', async () => {
        const store = await open();
        expect(await store.appendTasks('nope', [{ input: 1 }], 10)).toEqual([]);
        await create(store, 'c', [1], { kind: 'crawl' });
        await store.finish('c', 'completed', undefined, Date.now());
        expect(await store.appendTasks('c', [{ key: 'k', input: 2 }], 10)).toEqual([]);
        expect((await store.get('c'))?.total).toBe(1);
      });
    });

    describe('notes', () => {
      it('saves notes, overwriting a key and keeping the others, and reads them by key prefix', async () => {
        const store = await open();
        await create(store, 'j');
        await store.saveNotes('j', { 'robots:http://a.test': '{"a":1}', 'robots:http://a.test:8080': 'x', other: 'y' });
        await store.saveNotes('j', { 'robots:http://a.test': '{"a":2}' });
        await store.saveNotes('j', {});
        expect(await store.readNotes('j', 'robots:')).toEqual({ 'robots:http://a.test': '{"a":2}', 'robots:http://a.test:8080': 'x' });
        expect(await store.readNotes('j', 'robots:http://a.test:')).toEqual({ 'robots:http://a.test:8080': 'x' });
        // A prefix is taken literally, glob characters included.
        expect(await store.readNotes('j', 'r*')).toEqual({});
        expect(await store.readNotes('j', '')).toEqual({ 'robots:http://a.test': '{"a":2}', 'robots:http://a.test:8080': 'x', other: 'y' });
        expect(await store.readNotes('j', 'none')).toEqual({});
      });

      it('leaves the seq and the header alone', async () => {
        const store = await open();
        await create(store, 'j');
        const before = await store.get('j');
        await store.saveNotes('j', { k: 'v' });
        expect(await store.get('j')).toEqual(before);
        expect(await store.readNotes('j', 'k')).toEqual({ k: 'v' });
      });

      it('ignores notes on an unknown or finished job, still reading those saved before the end', async () => {
        const store = await open();
        await store.saveNotes('ghost', { k: 'v' });
        expect(await store.readNotes('ghost', '')).toEqual({});
        await create(store, 'j');
        await store.saveNotes('j', { k: 'v' });
        await store.finish('j', 'completed', undefined, Date.now());
        await store.saveNotes('j', { k: 'late', l: 'late' });
        expect(await store.readNotes('j', '')).toEqual({ k: 'v' });
      });

      it('goes with the job when it is evicted or expires', async () => {
        const store = await open({ maxCount: 1, maxAgeMs: 1_000 });
        await create(store, 'a');
        await store.saveNotes('a', { k: 'a' });
        await store.finish('a', 'completed', undefined, Date.now());
        await create(store, 'b');
        await store.saveNotes('b', { k: 'b' });
        await store.finish('b', 'completed', undefined, Date.now()); // maxCount 1: a is evicted
        expect(await store.get('a')).toBeUndefined();
        expect(await store.readNotes('a', '')).toEqual({});
        await until(async () => (await store.get('b')) === undefined); // b expires (maxAgeMs)
        expect(await store.readNotes('b', '')).toEqual({});
      });
    });

    describe('start, requestCancel, finish', () => {
      it('starts a queued job once', async () => {
        const store = await open();
        await create(store, 'j');
        expect(await store.start('j', 1234)).toMatchObject({ status: 'running', startedAt: 1234, seq: 2 });
        expect(await store.start('j', 5678)).toBeUndefined();
        expect(await store.get('j')).toMatchObject({ startedAt: 1234, seq: 2 });
        expect(await store.start('nope', 1)).toBeUndefined();
      });

      it('records the first cancel reason of an unfinished job', async () => {
        const store = await open();
        await create(store, 'j');
        expect(await store.requestCancel('j', 'user')).toMatchObject({ id: 'j', cancelRequested: 'user' });
        expect(await store.requestCancel('j', 'shutdown')).toMatchObject({ cancelRequested: 'user' });
        expect(await store.requestCancel('nope', 'user')).toBeUndefined();
        await create(store, 'done');
        await store.finish('done', 'completed', undefined, Date.now());
        expect(await store.requestCancel('done', 'late')).not.toHaveProperty('cancelRequested');
      });

      it('ends the job once: status, reason, times, seq, unfinished, lease, later writes ignored', async () => {
        const store = await open();
        await create(store, 'j', [1, 2]);
        await create(store, 'k', [1]);
        expect(await store.claim('j', 'node-a', 60_000)).toBe(true);
        const now = Date.now();
        const finished = await store.finish('j', 'failed', 'worker died', now);
        expect(finished).toMatchObject({ status: 'failed', reason: 'worker died', finishedAt: now, startedAt: now, seq: 2 });
        expect(await store.get('j')).toEqual(finished);
        expect(await store.unfinished()).toEqual(['k']);
        expect(await store.unclaimed()).toEqual(['k']);
        expect(await store.claim('j', 'node-b', 60_000)).toBe(false);
        expect(await store.finish('j', 'completed', undefined, Date.now())).toBeUndefined();
        expect(await store.start('j', 1)).toBeUndefined();
        await store.setSummary('j', { pages: 9 });
        expect(await store.get('j')).toEqual(finished);
      });

      it('keeps startedAt and the reason unset when not given', async () => {
        const store = await open();
        await create(store, 'j');
        const now = Date.now();
        await store.start('j', now - 100);
        const finished = await store.finish('j', 'completed', undefined, now);
        expect(finished).toMatchObject({ startedAt: now - 100, finishedAt: now, seq: 3 });
        expect(finished).not.toHaveProperty('reason');
        expect(await store.finish('nope', 'completed', undefined, 1)).toBeUndefined();
      });
    });

    describe('reads', () => {
      it('lists newest first, filtered, paged, total counting every match', async () => {
        const store = await open();
        const statuses = ['queued', 'running', 'completed', 'failed', 'cancelled', 'completed'] as const;
        for (const [i, status] of statuses.entries()) {
          const owner = i % 2 ? 'alice' : 'bob';
          await create(store, `j${i}`, [1], { owner, callerId: owner, kind: i === 4 ? 'crawl' : 'fibonacci' });
          if (status === 'running') await store.start(`j${i}`, 1);
          if (status !== 'queued' && status !== 'running') await store.finish(`j${i}`, status, undefined, Date.now());
        }
        expect(await ids(store)).toEqual(['j5', 'j4', 'j3', 'j2', 'j1', 'j0']);
        const first = await store.list({ limit: 2 });
        expect([first.items.map((job) => job.id), first.total]).toEqual([['j5', 'j4'], 6]);
        const page = await store.list({ limit: 3, before: first.next ?? undefined });
        expect([page.items.map((job) => job.id), page.total]).toEqual([['j3', 'j2', 'j1'], 6]);
        expect(page.items[0]).toEqual(await store.get('j3'));
        const last = await store.list({ limit: 3, before: page.next ?? undefined });
        expect([last.items.map((job) => job.id), last.next]).toEqual([['j0'], null]);
        const find = async (query: object) => {
          const found = await store.list({ limit: 10, ...query });
          return [found.items.map((job) => job.id), found.total];
        };
        expect(await find({ status: 'completed' })).toEqual([['j5', 'j2'], 2]);
        expect(await find({ status: 'running' })).toEqual([['j1'], 1]);
        expect(await find({ kind: 'crawl' })).toEqual([['j4'], 1]);
        expect(await find({ owner: 'alice' })).toEqual([['j5', 'j3', 'j1'], 3]);
        expect(await find({ owner: 'alice', status: 'completed' })).toEqual([['j5'], 1]);
        expect(await find({ owner: 'carol' })).toEqual([[], 0]);
        // An empty owner is a real owner, not "no filter".
        expect(await find({ owner: '' })).toEqual([[], 0]);
      });

      it('reads task and input slices in index order, clipped to the total', async () => {
        const store = await open();
        await create(store, 'j', [{ n: 0 }, { n: 1 }, { n: 2 }]);
        await store.apply('j', [{ index: 2, state: 'completed', result: [1, 2] }]);
        expect(await store.tasks('j', 1, 10)).toEqual([
          { index: 1, input: { n: 1 }, state: 'queued' },
          { index: 2, input: { n: 2 }, state: 'completed', result: [1, 2] },
        ]);
        expect(await store.tasks('j', 3, 10)).toEqual([]);
        // By index, in the order asked, leaving out those past the end.
        expect(await store.tasksAt('j', [2, 5, 0, -1])).toEqual([
          { index: 2, input: { n: 2 }, state: 'completed', result: [1, 2] },
          { index: 0, input: { n: 0 }, state: 'queued' },
        ]);
        expect(await store.tasksAt('j', [])).toEqual([]);
        expect(await store.tasksAt('nope', [0])).toEqual([]);
        // Results and errors stay with their own tasks when indexes past the end come in between.
        await store.apply('j', [{ index: 1, state: 'failed', error: 'boom' }]);
        expect(await store.tasksAt('j', [7, 1, 9, 2])).toEqual([
          { index: 1, input: { n: 1 }, state: 'failed', error: 'boom' },
          { index: 2, input: { n: 2 }, state: 'completed', result: [1, 2] },
        ]);
        expect(await store.tasks('j', 0, 2)).toEqual([
          { index: 0, input: { n: 0 }, state: 'queued' },
          { index: 1, input: { n: 1 }, state: 'failed', error: 'boom' },
        ]);
        expect(await store.inputs('j', 0, 2)).toEqual([{ n: 0 }, { n: 1 }]);
        expect(await store.inputs('j', 2, 5)).toEqual([{ n: 2 }]);
        expect(await store.tasks('nope', 0, 10)).toEqual([]);
        expect(await store.inputs('nope', 0, 10)).toEqual([]);
        expect(await store.snapshot('nope')).toBeUndefined();
        expect(await store.get('nope')).toBeUndefined();
      });

      // Inputs and results are written once and never changed by anyone, so the memory store
      // shares them rather than copying 100k results per page; headers and params are copies.
      it('hands out copies of headers and params: changing what it returned changes nothing stored', async () => {
        const store = await open();
        const params = { depth: 1 };
        await create(store, 'j', [{ url: 'http://x/' }], { params });
        params.depth = 99;
        const header = (await store.get('j')) as JobHeader;
        header.reservation.tasks = 99;
        (header.params as { depth: number }).depth = 42;
        const snapshot = await store.snapshot('j');
        snapshot!.header.status = 'failed';
        expect(await store.get('j')).toMatchObject({ status: 'queued', params: { depth: 1 }, reservation: { tasks: 1 } });
      });
    });

    describe('leases', () => {
      it('claims a free lease, renews and releases it only by its holder', async () => {
        const store = await open();
        await create(store, 'j');
        await create(store, 'k');
        expect(await store.unclaimed()).toEqual(expect.arrayContaining(['j', 'k']));
        expect(await store.claim('j', 'a', 60_000)).toBe(true);
        expect(await store.claim('j', 'a', 60_000)).toBe(true);
        expect(await store.claim('j', 'b', 60_000)).toBe(false);
        expect(await store.unclaimed()).toEqual(['k']);
        expect(await store.renew('j', 'a', 60_000)).toBe(true);
        expect(await store.renew('j', 'b', 60_000)).toBe(false);
        await store.release('j', 'b');
        expect(await store.claim('j', 'b', 60_000)).toBe(false);
        await store.release('j', 'a');
        expect((await store.unclaimed()).sort()).toEqual(['j', 'k']);
        expect(await store.renew('j', 'a', 60_000)).toBe(false);
        expect(await store.claim('j', 'b', 60_000)).toBe(true);
        expect(await store.claim('nope', 'a', 60_000)).toBe(false);
      });

      it('lets another holder take a lapsed lease, after which the old holder cannot renew', async () => {
        const store = await open();
        await create(store, 'j');
        expect(await store.claim('j', 'a', 300)).toBe(true);
        await until(async () => (await store.unclaimed()).includes('j'));
        expect(await store.claim('j', 'b', 60_000)).toBe(true);
        expect(await store.renew('j', 'a', 60_000)).toBe(false);
        expect(await store.unclaimed()).toEqual([]);
      });
    });

    describe('per owner (a keyed caller reads its own jobs only)', () => {
      const sorted = async (store: JobStore, owner?: string) => (await store.unfinished(owner)).sort();
      const find = async (store: JobStore, query: Partial<JobQuery>) => {
        const found = await store.list({ limit: 10, ...query });
        return [found.items.map((job) => job.id), found.total];
      };

      it("lists one owner's unfinished jobs, dropping a job when it ends; without an owner, everybody's", async () => {
        const store = await open();
        await create(store, 'a1');
        await create(store, 'b1', [1], of('bob'));
        await create(store, 'a2');
        // Owners are key suffixes in Redis: one that extends another, or is empty, is still its own.
        await create(store, 'x1', [1], of('alice:x'));
        await create(store, 'e1', [1], of(''));
        await create(store, 'n1', [1], { owner: undefined, callerId: '10.0.0.1' });
        expect(await sorted(store, 'alice')).toEqual(['a1', 'a2']);
        expect(await sorted(store, 'bob')).toEqual(['b1']);
        expect(await sorted(store, 'alice:x')).toEqual(['x1']);
        expect(await sorted(store, '')).toEqual(['e1']);
        expect(await sorted(store, 'carol')).toEqual([]);
        // The runner's and the unkeyed feeds' view: every unfinished job, those without owner included.
        expect(await sorted(store)).toEqual(['a1', 'a2', 'b1', 'e1', 'n1', 'x1']);
        await store.start('a1', 1);
        expect(await sorted(store, 'alice')).toEqual(['a1', 'a2']);
        await store.finish('a1', 'completed', undefined, Date.now());
        await store.finish('b1', 'cancelled', 'stop', Date.now());
        expect(await sorted(store, 'alice')).toEqual(['a2']);
        expect(await sorted(store, 'bob')).toEqual([]);
        expect(await sorted(store)).toEqual(['a2', 'e1', 'n1', 'x1']);
      });

      it("lists one owner's jobs newest first, filtered and paged, the total counting that owner's matches", async () => {
        const store = await open();
        // Interleaved: alice has j0 j2 j4 j6, bob j1 j3 j5.
        for (let i = 0; i < 7; i++) await create(store, `j${i}`, [1], of(i % 2 ? 'bob' : 'alice'));
        await store.finish('j2', 'failed', 'gave up', Date.now());
        await store.finish('j3', 'completed', undefined, Date.now());
        expect(await find(store, { owner: 'alice' })).toEqual([['j6', 'j4', 'j2', 'j0'], 4]);
        const { next } = await store.list({ owner: 'alice', limit: 1 });
        expect(await find(store, { owner: 'alice', before: next ?? undefined, limit: 2 })).toEqual([['j4', 'j2'], 4]);
        expect(await store.list({ owner: 'alice', before: 1, limit: 2 })).toEqual({ items: [], next: null, total: 4 });
        expect(await find(store, { owner: 'alice', status: 'queued' })).toEqual([['j6', 'j4', 'j0'], 3]);
        expect(await find(store, { owner: 'bob', status: 'completed' })).toEqual([['j3'], 1]);
        expect(await find(store, { owner: 'bob', kind: 'crawl' })).toEqual([[], 0]);
        expect((await store.list({ owner: 'alice', limit: 1 })).items[0]).toEqual(await store.get('j6'));
      });

      it("forgets an evicted job in its owner's listing, and lists the jobs created after it", async () => {
        const store = await open({ maxCount: 1 });
        await create(store, 'a1');
        await create(store, 'b1', [1], of('bob'));
        await create(store, 'a2');
        await create(store, 'a3');
        await store.finish('a1', 'completed', undefined, Date.now());
        await store.finish('a2', 'completed', undefined, Date.now()); // maxCount 1: a1 is evicted
        expect(await store.get('a1')).toBeUndefined();
        expect(await find(store, { owner: 'alice' })).toEqual([['a3', 'a2'], 2]);
        expect(await sorted(store, 'alice')).toEqual(['a3']);
        await create(store, 'a4');
        expect(await find(store, { owner: 'alice' })).toEqual([['a4', 'a3', 'a2'], 3]);
        expect(await find(store, { owner: 'bob' })).toEqual([['b1'], 1]);
      });
    });

    describe('filters and cursors (GET /jobs)', () => {
      const idsOf = (page: JobPage) => page.items.map((job) => job.id);
      const find = async (store: JobStore, query: Partial<JobQuery>) => {
        const found = await store.list({ limit: 10, ...query });
        return [idsOf(found), found.total];
      };
      /** Every page of a query, following `next` to the end: the ids of each page. */
      async function walk(store: JobStore, query: Partial<JobQuery>, limit: number, between?: () => Promise<void>): Promise<string[][]> {
        const pages: string[][] = [];
        let before: number | undefined;
        do {
          const page = await store.list({ ...query, limit, before });
          pages.push(idsOf(page));
          before = page.next ?? undefined;
          await between?.();
          if (pages.length > 100) throw new Error('the pages never end');
        } while (before !== undefined);
        return pages;
      }
      const labelled = (owner: string, labels?: Record<string, string>, name?: string, kind = 'fibonacci'): Partial<NewJob> => ({ ...of(owner), labels, name, kind });

      it('filters by every label pair given, by status and kind with them, and by q (id prefix or part of the name, either case)', async () => {
        const store = await open();
        await create(store, 'a1', [1], labelled('alice', { env: 'prod', team: 'core' }, 'Nightly Fibonacci'));
        await create(store, 'a2', [1], labelled('alice', { env: 'dev' }, 'ad-hoc run'));
        await create(store, 'a3', [1], labelled('alice', { env: 'prod' }, 'Crawl the DOCS', 'crawl'));
        await create(store, 'a4', [1], of('alice'));
        await create(store, 'a5', [1], labelled('alice', { url: 'http://x:80/a=b' }));
        await create(store, 'b1', [1], labelled('bob', { env: 'prod', team: 'core' }, 'nightly'));
        await store.finish('a1', 'completed', undefined, Date.now());
        const alice = (query: Partial<JobQuery>) => find(store, { owner: 'alice', ...query });
        expect(await alice({ labels: [['env', 'prod']] })).toEqual([['a3', 'a1'], 2]);
        expect(
          await alice({
            labels: [
              ['env', 'prod'],
              ['team', 'core'],
            ],
          }),
        ).toEqual([['a1'], null]);
        expect(await alice({ labels: [['env', 'prod']], kind: 'crawl' })).toEqual([['a3'], null]);
        expect(await alice({ labels: [['env', 'prod']], status: 'completed' })).toEqual([['a1'], null]);
        expect(await alice({ labels: [['env', 'prod']], status: 'queued' })).toEqual([['a3'], null]);
        expect(
          await alice({
            labels: [
              ['env', 'prod'],
              ['env', 'dev'],
            ],
          }),
        ).toEqual([[], null]);
        expect(await alice({ labels: [['url', 'http://x:80/a=b']] })).toEqual([['a5'], 1]);
        expect(await alice({ labels: [['url', 'http://x:80/a']] })).toEqual([[], 0]);
        expect(await alice({ labels: [['nope', 'prod']] })).toEqual([[], 0]);
        // q is lower-cased by the caller; names match in any case, ids by prefix only.
        expect(await alice({ q: 'nightly' })).toEqual([['a1'], null]);
        expect(await alice({ q: 'docs' })).toEqual([['a3'], null]);
        expect(await alice({ q: 'a' })).toEqual([['a5', 'a4', 'a3', 'a2', 'a1'], null]);
        expect(await alice({ q: 'a2' })).toEqual([['a2'], null]);
        expect(await alice({ q: '2' })).toEqual([[], null]);
        expect(await alice({ q: 'run', labels: [['env', 'dev']] })).toEqual([['a2'], null]);
        // Without an owner (keys off): every job.
        expect(await find(store, { q: 'nightly' })).toEqual([['b1', 'a1'], null]);
        expect(await find(store, { labels: [['team', 'core']] })).toEqual([['b1', 'a1'], 2]);
      });

      it('keeps a cursor stable while new jobs arrive: no page repeats or skips a job', async () => {
        const store = await open();
        for (let i = 0; i < 10; i++) await create(store, `x${i}`, [1], labelled('alice', { batch: 'one' }, `item ${i}`));
        let arrived = 0;
        const more = async () => {
          await create(store, `new${arrived}`, [1], labelled('alice', { batch: 'one' }, `item new ${arrived}`));
          arrived++;
        };
        const expected = [['x9', 'x8', 'x7'], ['x6', 'x5', 'x4'], ['x3', 'x2', 'x1'], ['x0']];
        expect(await walk(store, { owner: 'alice' }, 3, more)).toEqual(expected);
        expect(await walk(store, { owner: 'alice', labels: [['batch', 'one']] }, 3, more)).toEqual([
          ['new3', 'new2', 'new1'],
          ['new0', ...expected[0].slice(0, 2)],
          ['x7', 'x6', 'x5'],
          ['x4', 'x3', 'x2'],
          ['x1', 'x0'],
        ]);
        // A checked walk (q): the same guarantee.
        const items = (await walk(store, { owner: 'alice', q: 'item', labels: [['batch', 'one']] }, 4, more)).flat();
        expect(items).toEqual([...Array.from({ length: 9 }, (_, i) => `new${8 - i}`), ...Array.from({ length: 10 }, (_, i) => `x${9 - i}`)]);
      });

      it('lists a job under its status as it starts and ends, and no longer under the one it left', async () => {
        const store = await open();
        await create(store, 'j', [1], labelled('alice', { env: 'prod' }));
        const under = async (status: JobQuery['status']) => [
          await find(store, { owner: 'alice', status }),
          await find(store, { status }),
          (await find(store, { owner: 'alice', status, labels: [['env', 'prod']] }))[0],
        ];
        expect(await under('queued')).toEqual([[['j'], 1], [['j'], 1], ['j']]);
        await store.start('j', Date.now());
        expect(await under('queued')).toEqual([[[], 0], [[], 0], []]);
        expect(await under('running')).toEqual([[['j'], 1], [['j'], 1], ['j']]);
        await store.finish('j', 'failed', 'boom', Date.now());
        expect(await under('running')).toEqual([[[], 0], [[], 0], []]);
        expect(await under('failed')).toEqual([[['j'], 1], [['j'], 1], ['j']]);
        // Straight from queued to an end (a cancel before start).
        await create(store, 'k', [1], of('alice'));
        await store.finish('k', 'cancelled', 'stop', Date.now());
        expect([await find(store, { owner: 'alice', status: 'queued' }), await find(store, { owner: 'alice', status: 'cancelled' })]).toEqual([
          [[], 0],
          [['k'], 1],
        ]);
      });

      it('keeps each owner to its own jobs, whatever the filters or the position it continues from', async () => {
        const store = await open();
        for (let i = 0; i < 4; i++) {
          await create(store, `a${i}`, [1], labelled('alice', { env: 'prod' }, 'shared name'));
          await create(store, `b${i}`, [1], labelled('bob', { env: 'prod' }, 'shared name'));
        }
        await create(store, 'e', [1], labelled('', { env: 'prod' }, 'shared name'));
        for (const query of [{}, { labels: [['env', 'prod']] as [string, string][] }, { q: 'shared' }, { status: 'queued' as const }, { kind: 'fibonacci' }]) {
          const alicePage = await store.list({ owner: 'alice', limit: 1, ...query });
          // Bob continuing from alice's position still sees bob's jobs only.
          const bobs = (await walk(store, { owner: 'bob', ...query }, 2)).flat();
          expect(bobs, JSON.stringify(query)).toEqual(['b3', 'b2', 'b1', 'b0']);
          const fromAlice = await store.list({ owner: 'bob', limit: 10, before: alicePage.next ?? undefined, ...query });
          expect(
            idsOf(fromAlice).every((id) => id.startsWith('b')),
            JSON.stringify(query),
          ).toBe(true);
          expect(idsOf(await store.list({ owner: '', limit: 10, ...query }))).toEqual(['e']);
          expect(idsOf(await store.list({ owner: 'carol', limit: 10, ...query }))).toEqual([]);
        }
      });

      it('drops evicted and expired jobs from every filtered listing and count', async () => {
        const store = await open({ maxCount: 1 });
        for (const id of ['e1', 'e2', 'e3']) {
          await create(store, id, [1], labelled('alice', { env: 'prod' }, 'evict me'));
          await store.finish(id, 'completed', undefined, Date.now());
        }
        expect(await find(store, { owner: 'alice', labels: [['env', 'prod']] })).toEqual([['e3'], 1]);
        expect(await find(store, { owner: 'alice', status: 'completed' })).toEqual([['e3'], 1]);
        expect(await find(store, { status: 'completed' })).toEqual([['e3'], 1]);
        expect(await find(store, { owner: 'alice', q: 'evict' })).toEqual([['e3'], null]);

        const aging = await open({ maxAgeMs: 300 });
        await create(aging, 'old', [1], labelled('alice', { env: 'prod' }, 'aging'));
        await create(aging, 'live', [1], labelled('alice', { env: 'prod' }, 'aging'));
        await aging.finish('old', 'completed', undefined, Date.now());
        // Nothing else happens in the store: the listing itself leaves expired jobs out.
        await until(async () => (await aging.list({ owner: 'alice', labels: [['env', 'prod']], limit: 10 })).total === 1);
        expect(await find(aging, { owner: 'alice', labels: [['env', 'prod']] })).toEqual([['live'], 1]);
        expect(await find(aging, { owner: 'alice', status: 'completed' })).toEqual([[], 0]);
        expect(await find(aging, { owner: 'alice', kind: 'fibonacci' })).toEqual([['live'], 1]);
        expect(await find(aging, { owner: 'alice' })).toEqual([['live'], 1]);
        expect(await find(aging, { q: 'aging', labels: [['env', 'prod']] })).toEqual([['live'], null]);
      });

      it(`examines at most ${LIST_SCAN_BUDGET} candidates per call when filters are checked, and the pages still reach every match`, async () => {
        const store = await open();
        const count = LIST_SCAN_BUDGET + 50;
        for (let i = 0; i < count; i++) await create(store, `h${i}`, [1], labelled('alice', undefined, i === 0 || i === count - 1 ? 'the needle' : 'hay'));
        const first = await store.list({ owner: 'alice', q: 'needle', limit: 10 });
        // The newest matches; the oldest is past the budget, so the page ends early with a cursor.
        expect([idsOf(first), first.next === null]).toEqual([[`h${count - 1}`], false]);
        expect(await walk(store, { owner: 'alice', q: 'needle' }, 10)).toEqual([[`h${count - 1}`], ['h0']]);
        // One index answers without checking: the page is full however many jobs there are.
        expect(idsOf(await store.list({ owner: 'alice', limit: 3 }))).toEqual([`h${count - 1}`, `h${count - 2}`, `h${count - 3}`]);
      });
    });

    describeCapability(name, 'countsWork', capabilities.countsWork, () => {
      it("reads one owner's jobs at the cost of that owner's jobs, not every tenant's", async () => {
        const made = await make({ ...roomy, maxCount: 5 });
        opened.push(made);
        const { store } = made;
        /** A read's value and the work it took on the harness's backend. */
        const cost = async <T>(on: StoreUnderTest, read: (store: JobStore) => Promise<T>): Promise<[T, number]> => {
          const work = needs(on.work, 'work()').bind(on);
          const before = await work();
          const value = await read(on.store);
          return [value, (await work()) - before];
        };
        for (let i = 0; i < 200; i++) await create(store, `c${i}`, [1], of('crowd'));
        await create(store, 'solo', [1], of('solo'));
        // Half of the crowd's jobs end, and all but the last 5 of those (maxCount) are evicted.
        for (let i = 0; i < 100; i++) await store.finish(`c${i}`, 'completed', undefined, Date.now());

        const [unfinished, unfinishedCost] = await cost(made, (store) => store.unfinished('solo'));
        expect(unfinished).toEqual(['solo']);
        const [listed, listCost] = await cost(made, (store) => store.list({ owner: 'solo', limit: 10 }));
        expect([listed.items.map((job) => job.id), listed.total]).toEqual([['solo'], 1]);
        const [filtered, filteredCost] = await cost(made, (store) => store.list({ owner: 'solo', status: 'queued', kind: 'fibonacci', q: 'so', limit: 10 }));
        expect(filtered.items.map((job) => job.id)).toEqual(['solo']);

        // The rest of the crowd ends: a stale index would still hold its ended and evicted jobs.
        for (let i = 100; i < 200; i++) await store.finish(`c${i}`, 'completed', undefined, Date.now());
        const [crowdUnfinished, crowdUnfinishedCost] = await cost(made, (store) => store.unfinished('crowd'));
        expect(crowdUnfinished).toEqual([]);
        const [crowdListed, crowdListCost] = await cost(made, (store) => store.list({ owner: 'crowd', limit: 10 }));
        expect([crowdListed.items.map((job) => job.id), crowdListed.total]).toEqual([['c199', 'c198', 'c197', 'c196', 'c195'], 5]);

        // Ended jobs leave their owner's unfinished index as they end, not only once evicted.
        const roomier = await make(roomy);
        opened.push(roomier);
        for (let i = 0; i < 100; i++) {
          await create(roomier.store, `d${i}`, [1], of('done'));
          await roomier.store.finish(`d${i}`, 'completed', undefined, Date.now());
        }
        const [doneUnfinished, doneUnfinishedCost] = await cost(roomier, (store) => store.unfinished('done'));
        expect(doneUnfinished).toEqual([]);

        const costs = { unfinishedCost, listCost, filteredCost, crowdUnfinishedCost, crowdListCost, doneUnfinishedCost };
        for (const [what, units] of Object.entries(costs)) expect(units, `${what}: ${JSON.stringify(costs)}`).toBeLessThan(CHEAP);
      });
    });

    describeCapability(name, 'sharedAcrossInstances', capabilities.sharedAcrossInstances, () => {
      /** A store and another on the same backend, as two instances have them. */
      async function pair(): Promise<[JobStore, JobStore]> {
        const made = await make(roomy);
        opened.push(made);
        return [made.store, await needs(made.peer, 'peer()').call(made)];
      }

      it('two stores see each other: jobs, task writes, admission and leases', async () => {
        const [one, two] = await pair();
        await create(one, 'j', [1, 2]);
        expect(await two.get('j')).toEqual(await one.get('j'));
        await two.apply('j', [{ index: 1, state: 'completed', result: 'from two', bytes: 8 }]);
        expect(await one.tasks('j', 1, 1)).toEqual([{ index: 1, input: 2, state: 'completed', result: 'from two' }]);
        expect(await one.admission('alice')).toEqual(await two.admission('alice'));
        const { version } = await one.admission('alice');
        await create(two, 'k', [1]);
        expect(await one.create(newJob('stale'), [1], version)).toBe(false);
        expect(await one.claim('j', 'node-1', 60_000)).toBe(true);
        expect(await two.claim('j', 'node-2', 60_000)).toBe(false);
        await two.requestCancel('j', 'from two');
        expect((await one.get('j'))?.cancelRequested).toBe('from two');
        await one.finish('j', 'cancelled', 'from two', Date.now());
        expect(await two.unfinished()).toEqual(['k']);
        expect((await two.list({ limit: 10 })).items.map((job) => job.id)).toEqual(['k', 'j']);
      });

      it("reads the notes another instance's store saved", async () => {
        const [one, two] = await pair();
        await create(one, 'j');
        await one.saveNotes('j', { k: 'v' });
        expect(await two.readNotes('j', 'k')).toEqual({ k: 'v' });
      });
    });

    describe('retention', () => {
      it('evicts the oldest finished jobs past maxCount, never unfinished ones', async () => {
        const store = await open({ maxCount: 2 });
        await create(store, 'running');
        await store.start('running', 1);
        for (const id of ['a', 'b', 'c', 'd']) {
          await create(store, id);
          await store.finish(id, 'completed', undefined, Date.now());
        }
        expect(await ids(store)).toEqual(['d', 'c', 'running']);
        expect(await store.get('a')).toBeUndefined();
        expect(await store.tasks('a', 0, 10)).toEqual([]);
      });

      it('evicts by total result bytes of finished jobs, oldest first', async () => {
        const store = await open({ maxBytes: 1_000 });
        const finishWith = async (id: string, bytes: number) => {
          await store.apply(id, [{ index: 0, state: 'completed', result: 'x', bytes }]);
          await store.finish(id, 'completed', undefined, Date.now());
        };
        for (const id of ['a', 'b', 'c', 'big']) await create(store, id, [1]);
        await finishWith('a', 400);
        await finishWith('b', 400);
        expect(await ids(store)).toEqual(['big', 'c', 'b', 'a']);
        await finishWith('c', 400); // 1200 > 1000: a goes, 800 stays
        expect(await ids(store)).toEqual(['big', 'c', 'b']);
        // A single job over the whole budget cannot be kept either.
        await finishWith('big', 5_000);
        expect(await ids(store)).toEqual([]);
      });

      it('evicts finished jobs past maxAgeMs, keeping unfinished ones', async () => {
        const store = await open({ maxAgeMs: 1_000 });
        await create(store, 'running');
        await store.start('running', 1);
        await create(store, 'old');
        await store.finish('old', 'cancelled', 'stop', Date.now());
        expect(await store.get('old')).toBeDefined();
        await until(async () => (await store.get('old')) === undefined);
        expect(await ids(store)).toEqual(['running']);
        expect((await store.get('running'))?.status).toBe('running');
      });

      it('counts a job once in retention however often finish is called', async () => {
        const store = await open({ maxCount: 1 });
        await create(store, 'a');
        await create(store, 'b');
        await store.start('a', 1);
        await store.finish('b', 'completed', undefined, Date.now());
        await store.finish('b', 'completed', undefined, Date.now());
        expect(await ids(store)).toEqual(['b', 'a']);
      });
    });
  });
}
