import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/app';
import { startFixtureSite, type FixtureSite } from './support/fixture-site';
import { FeedClient, type Message } from './support/ws-client';

const FINAL_EVENTS = ['job.completed', 'job.failed', 'job.cancelled'];

describe('how jobs end', () => {
  let svc: RunningApp;
  let site: FixtureSite;
  beforeAll(async () => {
    site = await startFixtureSite();
    // A page that never finishes outlives TASK_TIMEOUT_MS: its pool task dies.
    svc = await startApp({ TASK_TIMEOUT_MS: '1000', CRAWL_ALLOW_TARGETS: '127.0.0.2/32', CRAWL_ALLOW_IGNORE_ROBOTS: 'true' });
  });
  afterAll(async () => {
    await svc.close();
    await site.close();
  });

  it('a job whose every task fails ends failed with a reason, over the API and as the final feed event; a dead crawl worker leaves {code, message}', async () => {
    const { body: job } = await request(svc.url)
      .post('/crawl')
      .send({ urls: [`${site.url}/slow/hang`], maxPages: 1, maxDepth: 0, timeoutMs: 30_000, retries: 0, respectRobotsTxt: false })
      .expect(202);
    const feed = await FeedClient.connect(svc.wsUrl);
    try {
      feed.subscribe(job.id);
      const final = await feed.waitFor((m) => FINAL_EVENTS.includes(m.event), 0, 30_000);
      expect(final.event).toBe('job.failed');
      expect(final.data).toMatchObject({ id: job.id, status: 'failed', total: 1, completed: 0, failed: 1, reason: 'every task failed' });
    } finally {
      feed.close();
    }
    const { body: view } = await request(svc.url).get(`/jobs/${job.id}`).expect(200);
    expect(view).toMatchObject({ status: 'failed', failed: 1, reason: 'every task failed' });
    const { body: page } = await request(svc.url).get(`/jobs/${job.id}/results`).expect(200);
    expect(page.items).toHaveLength(1);
    const [item] = page.items;
    expect(item).toMatchObject({ index: 0, state: 'failed', url: `${site.url}/slow/hang`, error: { code: 'worker_failed' } });
    expect(item.error.message).toMatch(/TASK_TIMEOUT_MS/);
    expect(Object.keys(item.error).sort()).toEqual(['code', 'message']);
  });

  it('DELETE of a completed job answers 200 with the job unchanged; it stays completed and its results readable', async () => {
    const { body: job } = await request(svc.url)
      .post('/fibonacci?wait=10000')
      .send({ numbers: [10, 20] })
      .expect(200);
    expect(job.status).toBe('completed');
    const { results: _results, ...before } = job;
    const { body: after } = await request(svc.url).delete(`/jobs/${job.id}`).expect(200);
    expect(after).toEqual(before);
    const { body: view } = await request(svc.url).get(`/jobs/${job.id}`).expect(200);
    expect(view).toEqual(before);
    const { body: page } = await request(svc.url).get(`/jobs/${job.id}/results`).expect(200);
    expect(page.items.map((i: { value: string }) => i.value)).toEqual(['55', '6765']);
  });
});

describe('PROGRESS_FLUSH_MS coalesces task updates', () => {
  // Twelve numbers of ~209,000 digits: each takes tens of milliseconds and reports progress.
  const numbers = Array.from({ length: 12 }, (_, i) => 1_000_000 + i);

  /** Runs the batch watched from its first snapshot; returns the task.progress messages and what the snapshot had left. */
  async function watchBatch(flushMs: number) {
    const svc = await startApp({ PROGRESS_FLUSH_MS: String(flushMs) });
    const feed = await FeedClient.connect(svc.wsUrl);
    try {
      // Warm both workers (GMP set-up) so the batch's tasks finish apart from each other.
      await request(svc.url)
        .post('/fibonacci?wait=20000')
        .send({ numbers: [500_000, 500_001] })
        .expect(200);
      const { body: job } = await request(svc.url).post('/fibonacci').send({ numbers }).expect(202);
      feed.subscribe(job.id);
      const end = await feed.waitFor((m) => FINAL_EVENTS.includes(m.event) && m.data.id === job.id, 0, 60_000);
      expect(end.event).toBe('job.completed');
      const mine = feed.messages.filter((m) => m.data?.jobId === job.id || m.data?.id === job.id);
      const snapshot = mine.find((m) => m.event === 'job.snapshot')!;
      const progress = mine.filter((m) => m.event === 'task.progress');
      // Every task is counted finished exactly once: in the snapshot or in one later update.
      const finishedAt = new Map<number, number>();
      [...snapshot.data.tasks].forEach((code: string, index: number) => code === 'c' && finishedAt.set(index, 1));
      for (const m of progress as Message[]) {
        for (const u of m.data.updates) if (u.state === 'completed') finishedAt.set(u.index, (finishedAt.get(u.index) ?? 0) + 1);
      }
      expect([...finishedAt.keys()].sort((a, b) => a - b)).toEqual(numbers.map((_, i) => i));
      expect([...finishedAt.values()].every((count) => count === 1)).toBe(true);
      const unfinished = [...snapshot.data.tasks].filter((code: string) => code !== 'c').length;
      return { progress, unfinished };
    } finally {
      feed.close();
      await svc.close();
    }
  }

  it('a window longer than the job: every update of the job arrives in one task.progress message', async () => {
    const { progress, unfinished } = await watchBatch(10_000);
    expect(progress).toHaveLength(unfinished > 0 ? 1 : 0);
  }, 90_000);

  it('a window of 0: updates go out as they come, in many messages', async () => {
    const { progress, unfinished } = await watchBatch(0);
    expect(unfinished).toBeGreaterThan(4);
    // Twelve numbers on two workers finish in at least six rounds, each with its own message.
    expect(progress.length).toBeGreaterThanOrEqual(3);
  }, 90_000);
});
