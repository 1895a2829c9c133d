/**
 * Recovery after kill -9 in the middle of the heavy batch: the batch is submitted to A, B is
 * killed once a share of the tasks is done (it is running some of the rest then: both instances
 * are busy throughout the batch), and A alone must finish, B's tasks included once their lock
 * (the lease) has expired. The results are read and checked afterwards.
 */
import { assertSameResults, type ResultItem } from './api';
import type { Service } from './service';

export interface Recovery {
  /** From the kill to the job's finishedAt, ms. */
  killToDoneMs: number;
  /** The disturbed job's durationMs (started to finished). */
  jobMs: number;
  /** Tasks done when B was killed. */
  doneAtKill: number;
  total: number;
}

interface JobView {
  id: string;
  status: string;
  total: number;
  completed: number;
  failed: number;
  finishedAt: string | null;
  durationMs: number | null;
  reason?: string;
}

/** Kills `victim` once `share` of the batch submitted to `via` is done, and times the rest. */
export async function killMidBatch(via: Service, victim: Service, numbers: readonly number[], expected: readonly string[], share = 0.4, timeoutMs = 120_000): Promise<Recovery> {
  const res = await fetch(`${via.baseUrl}/fibonacci`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ numbers }) });
  const submitted = (await res.json()) as JobView;
  if (res.status !== 202) throw new Error(`POST /fibonacci answered ${res.status}: ${JSON.stringify(submitted).slice(0, 300)}`);
  const deadline = Date.now() + timeoutMs;
  let killedAt: number | undefined;
  let doneAtKill = 0;
  for (;;) {
    const job = await getJob(via, submitted.id);
    if (killedAt === undefined && job.completed >= numbers.length * share) {
      killedAt = Date.now();
      doneAtKill = job.completed;
      victim.killNow();
    }
    if (['completed', 'failed', 'cancelled'].includes(job.status)) {
      if (job.status !== 'completed' || job.failed > 0) throw new Error(`the batch ended ${job.status} (${job.failed} failed)${job.reason ? `: ${job.reason}` : ''}`);
      if (killedAt === undefined) throw new Error('the batch finished before a share of it was done: nothing was killed');
      await checkResults(via, job, numbers, expected);
      return { killToDoneMs: Date.parse(job.finishedAt!) - killedAt, jobMs: job.durationMs ?? Number.NaN, doneAtKill, total: job.total };
    }
    if (Date.now() > deadline) throw new Error(`the batch is still ${job.status} (${job.completed}/${job.total}) after ${timeoutMs} ms`);
    await new Promise((wake) => setTimeout(wake, 50));
  }
}

async function getJob(via: Service, id: string): Promise<JobView> {
  const res = await fetch(`${via.baseUrl}/jobs/${id}`);
  const job = (await res.json()) as JobView;
  if (res.status !== 200) throw new Error(`GET /jobs/${id} answered ${res.status}: ${JSON.stringify(job).slice(0, 300)}`);
  return job;
}

/** Every result once, right: a task run twice (before and after the kill) must not show up twice. */
async function checkResults(via: Service, job: JobView, numbers: readonly number[], expected: readonly string[]): Promise<void> {
  const items: ResultItem[] = [];
  let offset = 0;
  while (offset < job.total) {
    const res = await fetch(`${via.baseUrl}/jobs/${job.id}/results?offset=${offset}&limit=10000`);
    const page = (await res.json()) as { items: ResultItem[]; nextOffset?: number | null };
    if (res.status !== 200) throw new Error(`GET results of ${job.id} answered ${res.status}`);
    items.push(...page.items);
    const next = typeof page.nextOffset === 'number' ? page.nextOffset : offset + page.items.length;
    if (next <= offset) break;
    offset = next;
  }
  assertSameResults('recovery: results after the kill', numbers, items, expected);
}
