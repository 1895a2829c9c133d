import { Logger } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
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
  new JobMetricsListener(jobs as unknown as JobsService, metrics).onModuleInit();
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
