import type { Registry } from 'prom-client';

interface Durations {
  /** Per bucket (not cumulative); the last slot is +Inf. */
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * job_tasks_total and task_duration_seconds, kept in plain arrays. They are recorded once per
 * finished task — 100,000 times for one big batch — and prom-client's Counter and Histogram hash
 * their labels on every call: that cost 80 ms per 100k-number job (bench:fib a). Exposed through
 * the same registry, in the same exposition format.
 */
export class TaskTally {
  private readonly finished = new Map<string, { kind: string; state: string; value: number }>();
  private readonly durations = new Map<string, Durations>();

  constructor(
    registry: Registry,
    private readonly bounds: readonly number[],
  ) {
    registry.registerMetric({
      name: 'job_tasks_total',
      help: 'Job tasks that finished (completed, failed or cancelled).',
      type: 'counter',
      get: async () => this.counterValues(),
      reset: () => this.finished.clear(),
    } as never);
    registry.registerMetric({
      name: 'task_duration_seconds',
      help: 'Compute time of completed tasks, as measured by the worker.',
      type: 'histogram',
      get: async () => this.histogramValues(),
      reset: () => this.durations.clear(),
    } as never);
  }

  /** Shows a series at 0 before its first task, so a query or test can tell "none yet" from "not exported". */
  declare(kind: string, state: string): void {
    const key = `${kind}\u0000${state}`;
    if (!this.finished.has(key)) this.finished.set(key, { kind, state, value: 0 });
  }

  record(kind: string, state: string, ms?: number): void {
    const key = `${kind}\u0000${state}`;
    const counter = this.finished.get(key);
    if (counter) counter.value++;
    else this.finished.set(key, { kind, state, value: 1 });
    if (state !== 'completed' || ms === undefined) return;
    let d = this.durations.get(kind);
    if (!d) this.durations.set(kind, (d = { buckets: new Array(this.bounds.length + 1).fill(0), sum: 0, count: 0 }));
    const seconds = ms / 1000;
    let slot = 0;
    while (slot < this.bounds.length && seconds > this.bounds[slot]) slot++;
    d.buckets[slot]++;
    d.sum += seconds;
    d.count++;
  }

  private counterValues() {
    const values = [...this.finished.values()].map(({ kind, state, value }) => ({ labels: { kind, state }, value }));
    return { name: 'job_tasks_total', help: 'Job tasks that finished (completed, failed or cancelled).', type: 'counter', values, aggregator: 'sum' };
  }

  private histogramValues() {
    const name = 'task_duration_seconds';
    const values = [...this.durations].flatMap(([kind, d]) => {
      let cumulative = 0;
      const buckets = [...this.bounds, '+Inf' as const].map((le, i) => {
        cumulative += d.buckets[i];
        return { labels: { le, kind }, value: cumulative, metricName: `${name}_bucket` };
      });
      return [...buckets, { labels: { kind }, value: d.sum, metricName: `${name}_sum` }, { labels: { kind }, value: d.count, metricName: `${name}_count` }];
    });
    return { name, help: 'Compute time of completed tasks, as measured by the worker.', type: 'histogram', values, aggregator: 'sum' };
  }
}
