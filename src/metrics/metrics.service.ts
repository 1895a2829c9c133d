import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { JOB_KINDS } from '../jobs/job.model';
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
  // Crawl jobs do not exist yet; defined now so dashboards and alerts can be written against them.
  private readonly crawlPages = new Counter({
    name: 'crawl_pages_total',
    help: 'Crawled pages by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly crawlBytes = new Counter({
    name: 'crawl_bytes_total',
    help: 'Bytes downloaded by crawls, by page outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Every known kind and final state is exported from the start at 0: a missing series then
    // means a broken exporter, never "nothing happened yet".
    for (const kind of JOB_KINDS) {
      for (const status of FINAL_STATUSES) {
        this.jobs.inc({ kind, status }, 0);
        this.taskTally.declare(kind, status);
      }
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

  /** For the crawl job kind: one call per page, `outcome` a small fixed set (ok, error, skipped...). */
  recordCrawlPage(outcome: string, bytes = 0): void {
    this.crawlPages.inc({ outcome });
    if (bytes > 0) this.crawlBytes.inc({ outcome }, bytes);
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
