import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { JobRecord, type JobStatus } from './job.model';
import { MemoryJobStore, type RetentionPolicy } from './job.store';

const roomy: RetentionPolicy = { maxAgeMs: 3_600_000, maxCount: 1_000, maxBytes: 1 << 30 };
const stores: MemoryJobStore[] = [];

function store(policy: Partial<RetentionPolicy> = {}): MemoryJobStore {
  const s = new MemoryJobStore({ ...roomy, ...policy });
  stores.push(s);
  return s;
}

function job(id: string, opts: { owner?: string; inputs?: number[] } = {}): JobRecord<number, string> {
  return new JobRecord<number, string>(id, 'fibonacci', opts.inputs ?? [1, 2, 3], opts.owner);
}

/** Finishes a job the way the jobs service does: final status and time, then tell the store. */
function finish(s: MemoryJobStore, j: JobRecord, status: JobStatus = 'completed', resultBytes = 0): void {
  j.status = status;
  j.finishedAt = Date.now();
  j.resultBytes = resultBytes;
  s.finished(j);
}

const ids = (s: MemoryJobStore) => s.list({ offset: 0, limit: 1_000 }).items.map((j) => j.id);

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  vi.useRealTimers();
});

describe('MemoryJobStore.list', () => {
  // Shared by the read-only tests below, so it outlives the per-test cleanup.
  const s = new MemoryJobStore(roomy);
  afterAll(() => s.close());
  const statuses: JobStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled', 'completed'];
  statuses.forEach((status, i) => {
    const j = job(`j${i}`, { owner: i % 2 ? 'alice' : 'bob' });
    j.status = status;
    s.add(j);
  });

  it('returns newest first with the total', () => {
    expect(s.list({ offset: 0, limit: 10 })).toEqual({ items: expect.any(Array), total: 6 });
    expect(ids(s)).toEqual(['j5', 'j4', 'j3', 'j2', 'j1', 'j0']);
  });

  it('pages with offset and limit, total counting every match', () => {
    const page = s.list({ offset: 2, limit: 3 });
    expect(page.items.map((j) => j.id)).toEqual(['j3', 'j2', 'j1']);
    expect(page.total).toBe(6);
    expect(s.list({ offset: 10, limit: 3 })).toEqual({ items: [], total: 6 });
  });

  it('filters by status, kind and owner, alone and together', () => {
    expect(s.list({ status: 'completed', offset: 0, limit: 10 }).items.map((j) => j.id)).toEqual(['j5', 'j2']);
    expect(s.list({ kind: 'fibonacci', offset: 0, limit: 10 }).total).toBe(6);
    expect(s.list({ owner: 'alice', offset: 0, limit: 10 }).items.map((j) => j.id)).toEqual(['j5', 'j3', 'j1']);
    expect(s.list({ owner: 'alice', status: 'completed', offset: 0, limit: 10 })).toEqual({ items: [s.get('j5')], total: 1 });
    expect(s.list({ owner: 'carol', offset: 0, limit: 10 })).toEqual({ items: [], total: 0 });
  });

  it('treats an empty owner as a real owner, not as "no filter"', () => {
    // owner is compared with !== undefined, so '' must match only jobs owned by ''.
    expect(s.list({ owner: '', offset: 0, limit: 10 }).total).toBe(0);
  });
});

describe('MemoryJobStore retention', () => {
  it('evicts the oldest finished jobs over maxCount, never running ones', () => {
    const s = store({ maxCount: 2 });
    const running = job('running');
    running.status = 'running';
    s.add(running);
    const done = ['a', 'b', 'c', 'd'].map((id) => job(id));
    for (const j of done) {
      s.add(j);
      finish(s, j);
    }
    expect(ids(s)).toEqual(['d', 'c', 'running']);
    expect(s.get('a')).toBeUndefined();
  });

  it('evicts by total result bytes, oldest first', () => {
    const s = store({ maxBytes: 1_000 });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => job(id));
    [a, b, c].forEach((j) => s.add(j));
    finish(s, a, 'completed', 400);
    finish(s, b, 'failed', 400);
    expect(ids(s)).toEqual(['c', 'b', 'a']);
    finish(s, c, 'completed', 400); // 1200 > 1000: a goes, 800 stays
    expect(ids(s)).toEqual(['c', 'b']);
    // A single job over the whole budget cannot be kept either.
    const big = job('big');
    s.add(big);
    finish(s, big, 'completed', 5_000);
    expect(ids(s)).toEqual([]);
  });

  it('evicts by age on the periodic sweep, keeping running and younger jobs', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const s = store({ maxAgeMs: 1_000 });
    const [old, young, running] = ['old', 'young', 'running'].map((id) => job(id));
    [old, young, running].forEach((j) => s.add(j));
    running.status = 'running';
    finish(s, old, 'cancelled');
    vi.advanceTimersByTime(600);
    finish(s, young);
    vi.advanceTimersByTime(500); // old is 1100 ms finished, young 500 ms: one sweep has run
    expect(ids(s)).toEqual(['running', 'young']);
    vi.advanceTimersByTime(1_000);
    expect(ids(s)).toEqual(['running']);
    vi.advanceTimersByTime(10_000);
    expect(s.get('running')).toBe(running);
  });

  it('ignores jobs that are not final, and counts a job once if told twice', () => {
    const s = store({ maxCount: 1 });
    const [a, b] = [job('a'), job('b')];
    [a, b].forEach((j) => s.add(j));
    a.status = 'running';
    s.finished(a); // not final: must not take a retention slot
    finish(s, b);
    expect(ids(s)).toEqual(['b', 'a']);
    s.finished(b); // repeated: still one slot, nothing evicted
    expect(ids(s)).toEqual(['b', 'a']);
  });
});

describe('JobRecord', () => {
  it('counts each finished task once however often the update repeats', () => {
    const j = job('j', { inputs: [1, 2, 3, 4] });
    expect(j.transition(0, 'running')).toBe(true);
    expect(j.transition(0, 'running')).toBe(true); // progress updates re-send running
    expect(j.transition(0, 'completed')).toBe(true);
    expect(j.transition(0, 'completed')).toBe(false);
    expect(j.transition(0, 'failed')).toBe(false); // a late crash report must not re-count it
    expect(j.transition(1, 'failed')).toBe(true);
    expect(j.transition(2, 'cancelled')).toBe(true);
    expect(j.transition(2, 'running')).toBe(false);
    expect(j.transition(3, 'queued')).toBe(false);
    expect(j.transition(99, 'completed')).toBe(false); // unknown index
    expect([j.completed, j.failed, j.cancelled, j.finished, j.total]).toEqual([1, 1, 1, 3, 4]);
    expect(j.taskMap()).toBe('cfxq');
  });

  it('drops task progress when the task finishes', () => {
    const j = job('j');
    j.transition(0, 'running');
    j.progress.set(0, 0.5);
    j.transition(0, 'completed');
    expect(j.progress.has(0)).toBe(false);
  });

  it('grows with addTask, the new task queued', () => {
    const j = job('j', { inputs: [7] });
    expect(j.addTask(8)).toBe(1);
    expect(j.addTask(9)).toBe(2);
    expect([j.total, j.inputs, j.states, j.results.length]).toEqual([3, [7, 8, 9], ['queued', 'queued', 'queued'], 3]);
    expect(j.transition(2, 'completed')).toBe(true);
    expect([j.completed, j.finished, j.taskMap()]).toEqual([1, 1, 'qqc']);
  });
});
