import { Logger } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import type { JobsService } from '../jobs/jobs.service';
import type { EventListener, JobEvent } from '../progress/event-bus';
import { JobMetricsListener } from './job-metrics.listener';
import { MetricsService } from './metrics.service';

/** A listener wired to a fake job feed; `emit` plays events as JobsService.watch('*') would. */
function setup() {
  let listener: EventListener | undefined;
  const stop = vi.fn(() => (listener = undefined));
  const jobs = { watch: (_id: string, _owner: string | undefined, send: EventListener) => ((listener = send), stop) };
  const metrics = new MetricsService();
  const subject = new JobMetricsListener(jobs as unknown as JobsService, metrics);
  subject.onModuleInit();
  const emit = (event: JobEvent['event'], jobId: string, data: unknown) => listener?.({ event, jobId, data });
  const value = async (name: string, labels: Record<string, string>) => {
    // Histogram series (_count, _sum, _bucket) are values of the base metric, named by metricName.
    const values = (await metrics.registry.getMetricsAsJSON()).flatMap((m) => m.values.map((v) => ({ ...v, name: v.metricName ?? m.name })));
    const match = values.find((v) => v.name === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return match?.value ?? 0;
  };
  return { subject, metrics, emit, value, stop };
}

describe('JobMetricsListener', () => {
  it('counts finished tasks by the kind remembered from the job, and the job once at its end', async () => {
    const { emit, value } = setup();
    emit('job.created', 'a', { kind: 'fibonacci', status: 'queued' });
    emit('task.progress', 'a', {
      updates: [
        { index: 0, state: 'running', progress: 0.5 },
        { index: 0, state: 'completed', ms: 2 },
        { index: 1, state: 'failed', error: 'boom' },
        { index: 2, state: 'cancelled' },
      ],
    });
    emit('job.cancelled', 'a', { kind: 'fibonacci', status: 'cancelled', durationMs: 1500 });
    expect(await value('job_tasks_total', { kind: 'fibonacci', state: 'completed' })).toBe(1);
    expect(await value('job_tasks_total', { kind: 'fibonacci', state: 'failed' })).toBe(1);
    expect(await value('job_tasks_total', { kind: 'fibonacci', state: 'cancelled' })).toBe(1);
    expect(await value('task_duration_seconds_count', { kind: 'fibonacci' })).toBe(1);
    expect(await value('task_duration_seconds_sum', { kind: 'fibonacci' })).toBeCloseTo(0.002);
    expect(await value('jobs_total', { kind: 'fibonacci', status: 'cancelled' })).toBe(1);
    expect(await value('job_duration_seconds_sum', { kind: 'fibonacci', status: 'cancelled' })).toBeCloseTo(1.5);
  });

  it('forgets a job at its final event', async () => {
    const { emit, value } = setup();
    emit('job.started', 'b', { kind: 'fibonacci', status: 'running' });
    emit('job.completed', 'b', { kind: 'fibonacci', status: 'completed', durationMs: 1 });
    // Nothing follows a final event; were something to, the kind is no longer known.
    emit('task.progress', 'b', { updates: [{ index: 0, state: 'completed', ms: 1 }] });
    expect(await value('job_tasks_total', { kind: 'unknown', state: 'completed' })).toBe(1);
  });

  it('never lets a metrics error reach the publisher', () => {
    const { emit, metrics } = setup();
    vi.spyOn(metrics, 'recordJobFinished').mockImplementation(() => {
      throw new Error('bad label');
    });
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    expect(() => emit('job.failed', 'c', { kind: 'fibonacci', status: 'failed', durationMs: null })).not.toThrow();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('bad label'));
    warn.mockRestore();
  });

  it('unsubscribes on shutdown', () => {
    const { subject, stop } = setup();
    subject.onApplicationShutdown();
    expect(stop).toHaveBeenCalledOnce();
  });
});
