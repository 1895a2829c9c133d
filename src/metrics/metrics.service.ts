import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { KindMetric } from '../jobs/job-kind';
import { TaskTally } from './task-tally';

const FINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const;

/** Pool tasks range from microseconds (small n) to the task timeout; 0.1 ms .. 30 s. */
export const TASK_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A job is many tasks spread over the pool, so it can run for minutes. */
export const JOB_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Requests, including ?wait submissions that hold the answer for up to the wait limit. */
export const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Owns this app's metrics. The registry is per instance, not prom-client's global one: tests
 * create several apps in one process, and a global registry would throw "already registered".
 * Everything that records a metric goes through a method here, so names and labels live in one place.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly jobs = new Counter({
    name: 'jobs_total',
    help: 'Jobs that reached a final status.',
    labelNames: ['kind', 'status'] as const,
    registers: [this.registry],
  });
  private readonly jobDuration = new Histogram({
    name: 'job_duration_seconds',
    help: 'Time from a job starting to its final status.',
    labelNames: ['kind', 'status'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });
  /** Recorded per finished task: kept outside prom-client's label hashing (see TaskTally). */
  private readonly taskTally = new TaskTally(this.registry, TASK_BUCKETS);
  private readonly http = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, matched route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });
  private readonly unhandledRejections = new Counter({
    name: 'process_unhandled_rejections_total',
    help: 'Promise rejections nothing handled: each is a bug, logged and counted instead of ending the process.',
    registers: [this.registry],
  });
  /** The kinds' own counters (JobKind.metrics), by name. */
  private readonly kindCounters = new Map<string, Counter>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * A registered kind's series are exported from the start at 0 (every final state): a missing
   * series then means a broken exporter, never "nothing happened yet".
   */
  declareKind(kind: string): void {
    for (const status of FINAL_STATUSES) {
      this.jobs.inc({ kind, status }, 0);
      this.taskTally.declare(kind, status);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition; scrape-time gauges are read now. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  recordJobFinished(kind: string, status: string, durationMs: number | null | undefined): void {
    this.jobs.inc({ kind, status });
    if (typeof durationMs === 'number') this.jobDuration.observe({ kind, status }, durationMs / 1000);
  }

  /** Called once per finished task: 100k times for a big batch. */
  recordTaskFinished(kind: string, state: string, ms?: number): void {
    this.taskTally.record(kind, state, ms);
  }

  recordHttp(method: string, route: string, status: number, seconds: number): void {
    this.http.observe({ method, route, status: String(status) }, seconds);
  }

  /** A kind's counter metric, exported at 0 until counted (labels are unknown until then). */
  declareCounter(metric: KindMetric): void {
    if (this.kindCounters.has(metric.name)) return;
    this.kindCounters.set(metric.name, new Counter({ name: metric.name, help: metric.help, labelNames: [...metric.labelNames], registers: [this.registry] }));
  }

  /** Adds to a declared kind counter; an undeclared one is a bug in its kind, and is ignored. */
  count(metric: string, labels: Record<string, string>, by: number): void {
    if (by > 0) this.kindCounters.get(metric)?.inc(labels, by);
  }

  recordUnhandledRejection(): void {
    this.unhandledRejections.inc();
  }

  /** A gauge read when scraped, so it is never stale and costs nothing between scrapes. */
  scrapeGauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }
}
