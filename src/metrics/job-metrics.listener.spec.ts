import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobKind } from '../jobs/job-kind';
import { JobKinds } from '../jobs/job-kinds';
import type { JobObserver } from '../jobs/job-observers';
import type { JobView } from '../jobs/job.view';
import type { JobsService } from '../jobs/jobs.service';
import { JobMetricsListener } from './job-metrics.listener';
import { MetricsService } from './metrics.service';

/** A listener registered on a stand-in for JobsService.observe, as the real one registers. */
function setup() {
  let observer: JobObserver | undefined;
  const jobs = { observe: (o: JobObserver) => (observer = o) };
  const metrics = new MetricsService();
  const kinds = new JobKinds();
  for (const name of ['fibonacci', 'crawl']) kinds.register({ name, metrics: name === 'crawl' ? [{ name: 'crawl_pages_total', help: 'pages', labelNames: ['outcome'] }] : [] } as unknown as JobKind);
  new JobMetricsListener(jobs as unknown as JobsService, kinds, metrics).onModuleInit();
  const value = async (name: string, labels: Record<string, string>) => {
    // Histogram series (_count, _sum, _bucket) are values of the base metric, named by metricName.
    const values = (await metrics.registry.getMetricsAsJSON()).flatMap((m) => m.values.map((v) => ({ ...v, name: v.metricName ?? m.name })));
    const match = values.find((v) => v.name === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return match?.value ?? 0;
  };
  return { observer: () => observer!, metrics, value };
}

const view = (status: string, durationMs: number | null) => ({ id: 'a', kind: 'fibonacci', status, durationMs }) as unknown as JobView;

describe('JobMetricsListener', () => {
  // Test files share one process (isolate: false): a spy on Logger.prototype must not outlive its test.
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('counts finished tasks by kind and state, their compute time, and the job once at its end', async () => {
    const { observer, value } = setup();
    observer().taskFinished('fibonacci', 'completed', 2);
    observer().taskFinished('fibonacci', 'failed', undefined);
    observer().taskFinished('fibonacci', 'cancelled', undefined);
    observer().taskFinished('crawl', 'completed', 30);
    observer().jobFinished(view('cancelled', 1500));
    expect(await value('job_tasks_total', { kind: 'fibonacci', state: 'completed' })).toBe(1);
    expect(await value('job_tasks_total', { kind: 'fibonacci', state: 'failed' })).toBe(1);
    expect(await value('job_tasks_total', { kind: 'fibonacci', state: 'cancelled' })).toBe(1);
    expect(await value('task_duration_seconds_count', { kind: 'fibonacci' })).toBe(1);
    expect(await value('task_duration_seconds_sum', { kind: 'fibonacci' })).toBeCloseTo(0.002);
    expect(await value('task_duration_seconds_sum', { kind: 'crawl' })).toBeCloseTo(0.03);
    expect(await value('jobs_total', { kind: 'fibonacci', status: 'cancelled' })).toBe(1);
    expect(await value('job_duration_seconds_sum', { kind: 'fibonacci', status: 'cancelled' })).toBeCloseTo(1.5);
  });

  it('records a job without a duration (never started) without a duration sample', async () => {
    const { observer, value } = setup();
    observer().jobFinished(view('cancelled', null));
    expect(await value('jobs_total', { kind: 'fibonacci', status: 'cancelled' })).toBe(1);
    expect(await value('job_duration_seconds_count', { kind: 'fibonacci', status: 'cancelled' })).toBe(0);
  });

  it("exports every registered kind's series at 0 from the start, and counts a kind's own declared counters", async () => {
    const { observer, value, metrics } = setup();
    const text = await metrics.scrape();
    expect(text).toContain('jobs_total{kind="crawl",status="failed"} 0');
    expect(text).toContain('# TYPE crawl_pages_total counter');
    observer().counted('crawl_pages_total', { outcome: 'ok' }, 2);
    observer().counted('crawl_pages_total', { outcome: 'ok' }, 1);
    observer().counted('not_declared_total', { outcome: 'ok' }, 1);
    expect(await value('crawl_pages_total', { outcome: 'ok' })).toBe(3);
    expect(await metrics.scrape()).not.toContain('not_declared_total');
  });

  it('never lets a metrics error escape into the job that reported it', () => {
    const { observer, metrics } = setup();
    vi.spyOn(metrics, 'recordTaskFinished').mockImplementation(() => {
      throw new Error('boom');
    });
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    expect(() => observer().taskFinished('fibonacci', 'completed', 1)).not.toThrow();
    expect(warn).toHaveBeenCalled();
  });
});
