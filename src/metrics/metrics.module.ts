import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { JobMetricsListener } from './job-metrics.listener';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { ScrapeGauges } from './scrape-gauges';

/**
 * GET /metrics and everything it reports. Import it in AppModule; the HTTP timing middleware
 * (httpMetrics) is mounted by the app factory, ahead of every other middleware.
 * Job kinds report their own counters through their job context, never through MetricsService.
 */
@Module({
  imports: [JobsModule],
  controllers: [MetricsController],
  providers: [MetricsService, JobMetricsListener, ScrapeGauges],
  exports: [MetricsService],
})
export class MetricsModule {}
