import { afterAll, describe, expect, it } from 'vitest';
import { FeedRecorder, type FeedMessage } from './support/feed-recorder';
import { killLeftovers, startService, type ServiceProcess } from './support/service-process';

/**
 * Graceful shutdown of the real built service (node dist/main.js) as a child process: SIGTERM
 * drains (readiness 503, new jobs 503 + Retry-After), running jobs get the grace to finish or are
 * cancelled with reason "shutdown", feed clients get 1001, and the process exits 0 in time.
 */
const GRACE = 4_000;
/** The longest the service may keep back of the grace for cancelling and closing (see ShutdownService). */
const MAX_MARGIN = Math.min(2_000, GRACE / 4);
const SLACK = 1_000;
const ENV = { POOL_SIZE: '2', SHUTDOWN_GRACE_MS: String(GRACE) };

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

function post(svc: ServiceProcess, numbers: number[], query = ''): Promise<Response> {
  return fetch(`${svc.url}/fibonacci${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ numbers }),
  });
}

async function submit(svc: ServiceProcess, numbers: number[]): Promise<string> {
  const res = await post(svc, numbers);
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

/** Subscribes to the job on /ws and resolves once a worker is computing one of its tasks. */
async function watchUntilRunning(svc: ServiceProcess, jobId: string): Promise<FeedRecorder> {
  const feed = await FeedRecorder.connect(svc.wsUrl);
  feed.subscribe(jobId);
  await feed.waitFor((m) => (m.event === 'job.snapshot' && m.data.tasks.includes('r')) || (m.event === 'task.progress' && m.data.updates.some((u: { state: string }) => u.state === 'running')));
  return feed;
}

/** Polls readiness until it leaves 200 (the signal is handled asynchronously) and returns that answer. */
async function readinessAfterSignal(svc: ServiceProcess): Promise<{ status: number; body: any }> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const res = await fetch(`${svc.url}/health/ready`);
    if (res.status !== 200 || Date.now() > deadline) return { status: res.status, body: await res.json() };
    await res.arrayBuffer();
    await new Promise((wake) => setTimeout(wake, 10));
  }
}

const finalEvent = (m: FeedMessage) => ['job.completed', 'job.failed', 'job.cancelled'].includes(m.event);

describe('SIGTERM drain of the built service', () => {
  afterAll(killLeftovers);

  it('lets a job that fits in the grace finish, refusing new work meanwhile, then exits 0', async () => {
    const svc = await startService({ env: ENV });
    // Warm both workers (GMP set-up) so that the job's length is its own work: about 0.3 s idle,
    // long enough to be running through the checks below, short enough for the grace on a busy box.
    expect((await post(svc, range(2_000_000, 4), '?wait=20000')).status).toBe(200);
    const numbers = range(2_500_000, 4);
    const jobId = await submit(svc, numbers);
    const feed = await watchUntilRunning(svc, jobId);

    const exit = svc.stop('SIGTERM');
    const ready = await readinessAfterSignal(svc);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(ready.body)).toContain('shutting down');

    const refused = await post(svc, [1]);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { message: string }).message).toMatch(/shutting down/);

    const done = await feed.waitFor(finalEvent, GRACE + SLACK);
    expect(done.event, JSON.stringify(done.data)).toBe('job.completed');
    expect(done.data).toMatchObject({ id: jobId, status: 'completed', total: numbers.length, completed: numbers.length, cancelled: 0 });

    const closed = await feed.closed;
    expect(closed.code).toBe(1001);
    expect(closed.after).toBe(feed.messages.indexOf(done) + 1); // job.completed was the last message before the close

    const { code, signal, ms } = await exit;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(ms).toBeLessThan(GRACE + SLACK);
  }, 30_000);

  it('cancels a job that cannot finish in the grace with reason "shutdown", then exits 0 in time', async () => {
    const svc = await startService({ env: ENV });
    const numbers = range(9_000_000, 30);
    const jobId = await submit(svc, numbers);
    const feed = await watchUntilRunning(svc, jobId);

    const exit = svc.stop('SIGTERM');
    const ready = await readinessAfterSignal(svc);
    expect(ready.status).toBe(503);

    const cancelled = await feed.waitFor(finalEvent, GRACE + SLACK);
    expect(cancelled.event).toBe('job.cancelled');
    expect(cancelled.data).toMatchObject({ id: jobId, status: 'cancelled', reason: 'shutdown', total: numbers.length });
    expect(cancelled.data.completed).toBeLessThan(numbers.length);
    expect(cancelled.data.completed + cancelled.data.cancelled).toBe(numbers.length);

    const closed = await feed.closed;
    expect(closed.code).toBe(1001);
    expect(closed.after).toBe(feed.messages.indexOf(cancelled) + 1);

    const { code, signal, ms } = await exit;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    // It did give the job the grace (less the margin) before cancelling, and still ended in time.
    expect(ms).toBeGreaterThanOrEqual(GRACE - MAX_MARGIN - 100);
    expect(ms).toBeLessThan(GRACE + SLACK);

    const logged = svc
      .stdout()
      .split('\n')
      .find((line) => line.includes(jobId) && line.includes('job cancelled'));
    expect(logged, svc.stdout().slice(-3_000)).toBeDefined();
    expect(JSON.parse(logged!).message).toMatchObject({ jobId, reason: 'shutdown' });
  }, 30_000);

  it('logs one JSON object per stdout line in production, with the jobId on the lines about a job', async () => {
    // Routine per-job lines are debug-level (they cost time under load); turn them on here.
    const svc = await startService({ env: { ...ENV, LOG_LEVEL: 'debug' } });
    const res = await post(svc, [10, 20], '?wait=10000');
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    const exit = await svc.stop('SIGTERM');
    expect(exit.code).toBe(0);

    const lines = svc
      .stdout()
      .split('\n')
      .filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(5);
    const entries = lines.map((line, i) => {
      let entry: unknown;
      expect(() => (entry = JSON.parse(line)), `stdout line ${i + 1} is not JSON: ${line}`).not.toThrow();
      expect(entry, `stdout line ${i + 1} is not an object: ${line}`).toBeTypeOf('object');
      expect(entry).not.toBeNull();
      return entry as { level: string; message: unknown; jobId?: string };
    });
    for (const entry of entries) expect(entry).toHaveProperty('level');

    // The lines about a job ("job accepted", "job completed", ...) must name it in a field.
    const textOf = ({ message }: (typeof entries)[number]) => (typeof message === 'string' ? message : String((message as { msg?: unknown } | null)?.msg ?? ''));
    const jobIdOf = (entry: (typeof entries)[number]) => entry.jobId ?? (entry.message as { jobId?: string } | null)?.jobId;
    const about = entries.filter((entry) => /^job \w+/.test(textOf(entry)));
    expect(about.map(textOf)).toEqual(expect.arrayContaining(['job accepted', 'job completed']));
    for (const entry of about) expect(jobIdOf(entry), JSON.stringify(entry)).toBe(id);
  }, 30_000);
});
