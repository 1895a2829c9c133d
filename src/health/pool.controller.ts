import { Controller, Get } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { type PoolStatus, PoolStatusReader } from './pool-status';

/**
 * The pool's figures for the dashboard's pool panel; needs an API key when keys are on.
 * Not rate limited: it is O(1) like the probes and the dashboard polls it every second.
 */
@Controller('pool')
@SkipThrottle()
export class PoolController {
  constructor(private readonly pool: PoolStatusReader) {}

  @Get()
  status(): Promise<PoolStatus> {
    return this.pool.read();
  }
}
