import { Controller, Get } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { InstanceRegistry, type InstanceView } from '../pool/instance-registry';
import { type PoolStatus, PoolStatusReader } from './pool-status';

/** This instance's figures as before, plus every instance of the deployment (one in embedded mode). */
export type PoolPanel = PoolStatus & { instance: string; instances: InstanceView[] };

/**
 * The pool's figures for the dashboard's pool panel; needs an API key when keys are on.
 * Not rate limited: it is cheap like the probes (one Redis script in cluster mode) and the
 * dashboard polls it every second.
 */
@Controller('pool')
@SkipThrottle()
export class PoolController {
  constructor(
    private readonly pool: PoolStatusReader,
    private readonly instances: InstanceRegistry,
  ) {}

  @Get()
  async status(): Promise<PoolPanel> {
    return { ...(await this.pool.read()), instance: this.instances.local.id, instances: await this.instances.list() };
  }
}
