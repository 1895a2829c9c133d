import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { TaskScheduler } from '../pool/task-scheduler';
import { ProgressGateway } from '../progress/progress.gateway';
import { MetricsService } from './metrics.service';

/**
 * What is read of ProgressGateway: its `clients` getter (open connections). Typed structurally
 * so this file builds whether or not that getter has landed yet; until it has, the gauge reads 0.
 */
interface ClientCount {
  readonly clients?: number;
}

/** Gauges of live state (pool, WebSocket clients), read from their owners at scrape time. */
@Injectable()
export class ScrapeGauges implements OnModuleInit {
  private gateway?: ClientCount | null;

  constructor(
    private readonly metrics: MetricsService,
    private readonly scheduler: TaskScheduler,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    const pool = () => this.scheduler.stats();
    this.metrics.scrapeGauge('pool_threads', 'Worker threads alive in the pool.', () => pool().threads);
    this.metrics.scrapeGauge('pool_max_threads', 'Most worker threads the pool may run.', () => pool().maxThreads);
    this.metrics.scrapeGauge('pool_queue_length', 'Pool tasks waiting for a free worker.', () => pool().queued);
    this.metrics.scrapeGauge('pool_utilization', 'Share of worker time spent running tasks (0..1).', () => pool().utilization);
    this.metrics.scrapeGauge('websocket_clients', 'Open WebSocket connections to the progress feed.', () => this.progressGateway()?.clients ?? 0);
  }

  /**
   * ProgressModule keeps its gateway to itself, so it is looked up across modules. Looked up
   * lazily and remembered, including its absence (an app built without ProgressModule reports 0).
   */
  private progressGateway(): ClientCount | null {
    if (this.gateway === undefined) {
      try {
        this.gateway = this.moduleRef.get<ProgressGateway, ClientCount>(ProgressGateway, { strict: false });
      } catch {
        this.gateway = null;
      }
    }
    return this.gateway;
  }
}
