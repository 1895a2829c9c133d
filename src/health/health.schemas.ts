import { z } from 'zod';
import { errorBodySchema } from '../common/error-envelope';

const poolStats = z.object({
  threads: z.int(),
  maxThreads: z.int(),
  running: z.int().describe('tasks a worker is running right now'),
  queued: z.int(),
  utilization: z.number(),
  completed: z.int(),
  retried: z.int().describe('I/O tasks run again, alone on a thread, because the thread they shared died under them'),
});

/** GET /pool: this instance's figures, then every live instance of the deployment. */
export const poolPanelSchema = poolStats
  .extend({
    status: z.enum(['up', 'down']),
    reason: z.string().optional().describe('why the instance takes no work, when down'),
    queuedTasks: z.int().describe('unfinished tasks across all jobs (what MAX_QUEUED_TASKS bounds)'),
    instance: z.string().describe('the id of the instance that answered'),
    instances: z.array(z.object({ id: z.string(), startedAt: z.iso.datetime(), stats: poolStats, self: z.boolean() })),
  })
  .meta({ id: 'Pool' });

const indicators = z.record(z.string(), z.object({ status: z.enum(['up', 'down']), reason: z.string().optional() }));

/** GET /health/live and /health/ready when up (Terminus' shape). */
export const healthSchema = z.object({ status: z.literal('ok'), info: indicators, error: indicators, details: indicators }).meta({ id: 'Health' });

/** GET /health/ready when not ready: the error envelope with Terminus' verdict beside it. */
export const healthDownSchema = errorBodySchema.extend({ status: z.literal('error'), info: indicators, error: z.string(), details: indicators }).meta({ id: 'HealthDown' });
