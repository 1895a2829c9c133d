import { Controller, Get } from '@nestjs/common';
import { TaskScheduler } from '../pool/task-scheduler';

@Controller('health')
export class HealthController {
  constructor(private readonly scheduler: TaskScheduler) {}

  /** The process answers. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** The process can take work: its pool is up. */
  @Get('ready')
  ready() {
    return { status: 'ok', pool: this.scheduler.stats() };
  }
}
