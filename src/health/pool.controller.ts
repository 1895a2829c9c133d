import { createHash } from 'node:crypto';
import { Controller, Get } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { InstanceRegistry, type InstanceView } from '../pool/instance-registry';
import { type PoolStatus, PoolStatusReader } from './pool-status';

/** An instance as any API key sees it: no host name or process id (logs and the registry keep them). */
export type PublicInstance = Omit<InstanceView, 'host' | 'pid'>;

/** This instance's figures as before, plus every instance of the deployment (one in embedded mode). */
export type PoolPanel = PoolStatus & { instance: string; instances: PublicInstance[] };

/**
 * The name an instance goes by on the panel: its INSTANCE_ID, or, when none was set (the id is
 * then its host name and process id), a name derived from that id which says neither.
 */
export function panelName({ id, host, pid }: Pick<InstanceView, 'id' | 'host' | 'pid'>): string {
  return id === `${host}-${pid}` ? `instance-${createHash('sha256').update(id).digest('hex').slice(0, 8)}` : id;
}

/**
 * The pool's figures for the dashboard's pool panel; needs an API key when keys are on, and every
 * key sees every instance, so host names and process ids stay out of it. Not rate limited: it is
 * cheap like the probes (one Redis script in cluster mode) and the dashboard polls it every second.
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
    const instances = (await this.instances.list()).map(({ host, pid, ...instance }) => ({ ...instance, id: panelName({ id: instance.id, host, pid }) }));
    return { ...(await this.pool.read()), instance: panelName(this.instances.local), instances };
  }
}
