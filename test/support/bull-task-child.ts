/**
 * A service instance reduced to its task queue, for the crash test: it queues one task, runs it
 * with an execute that never ends, prints `running <key>` once it does, and waits to be killed.
 * Usage: node --import tsx bull-task-child.ts <redis url> <prefix> <lease ms> <task json>
 */
import { BullTaskQueue } from '../../src/backends/redis/bull-task-queue';
import type { PoolTask } from '../../src/jobs/task-queue';

const [url, prefix, leaseMs, taskJson] = process.argv.slice(2);
const task = JSON.parse(taskJson) as PoolTask;
const queue = new BullTaskQueue({ url, prefix, leaseMs: Number(leaseMs), concurrency: { cpu: 1, io: 1 }, instanceId: 'child' }, async (running) => {
  process.stdout.write(`running ${running.key}\n`);
  await new Promise(() => {});
});
// No top-level await: the package is CommonJS.
void queue.ready().then(() => queue.run(task, new AbortController().signal));
