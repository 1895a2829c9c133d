import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { TaskWaiters } from './task-waiters';

/** One BullMQ queue's event stream and the runs of this instance waiting on its jobs. */
export interface EndStream {
  key: string;
  waiters: TaskWaiters;
}

/** How long one read blocks; it is also how long the reader lingers once nothing waits. */
const BLOCK_MS = 1_000;
/** Events per stream per read: a reader that lagged catches up in a few reads. */
const READ_COUNT = 1_000;
/** Pause after a failed read (Redis down: the connection queues the next one until it is back). */
const RETRY_MS = 200;

/**
 * Reads the ends of BullMQ jobs (`completed`, `failed`: written to the queue's event stream by the
 * same Lua script that ends the job, so an instance that dies right after ending a task still
 * reports it) for the runs waiting on this instance, from both queues' streams in one blocking
 * XREAD on its own connection.
 *
 * It reads only while a run waits. BullMQ's QueueEvents read every event of the queue on every
 * instance: on a crawl of small pages that was one XREAD per job or two on each instance, most
 * of them on instances that waited for nothing (they only run tasks). Reads resume from the last
 * event seen, so nothing between two waits is missed; ends of tasks run on this instance are
 * also settled at once from its own worker (see BullTaskQueue), the stream covers the others.
 */
export class TaskEndReader {
  private readonly logger = new Logger(TaskEndReader.name);
  private reading = false;
  private closed = false;

  /** `from`: per stream, the id reading starts after (its end before this instance added anything). */
  constructor(
    private readonly redis: Redis,
    private readonly streams: readonly EndStream[],
    private readonly from: string[],
  ) {}

  /** Call after registering a waiter: starts reading unless it already does. */
  wake(): void {
    if (this.reading || this.closed) return;
    this.reading = true;
    // read() handles Redis errors itself; anything else is a bug, logged rather than left unhandled,
    // and reading resumes after a pause (never a tight loop).
    let failed = false;
    void this.read()
      .catch((error: unknown) => {
        failed = true;
        this.logger.error(`reading task ends: ${error instanceof Error ? error.message : String(error)}`);
      })
      .finally(() => {
        this.reading = false;
        // A waiter registered after the last check of the loop, before `reading` was cleared.
        if (!this.waiting()) return;
        if (failed) setTimeout(() => this.wake(), RETRY_MS).unref();
        else this.wake();
      });
  }

  close(): void {
    this.closed = true;
  }

  private waiting(): boolean {
    return !this.closed && this.streams.some((stream) => stream.waiters.size > 0);
  }

  private async read(): Promise<void> {
    const keys = this.streams.map((stream) => stream.key);
    while (this.waiting()) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await this.redis.xread('COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...this.from)) as typeof reply;
      } catch {
        if (this.closed) return;
        await new Promise((wake) => setTimeout(wake, RETRY_MS));
        continue;
      }
      for (const [key, entries] of reply ?? []) {
        const at = keys.indexOf(key);
        if (at < 0) continue;
        for (const [id, fields] of entries) {
          this.from[at] = id;
          settle(this.streams[at].waiters, fields);
        }
      }
    }
  }
}

/** An event's fields come as [name, value, name, value, …]. */
function settle(waiters: TaskWaiters, fields: string[]): void {
  const event = field(fields, 'event');
  if (event !== 'completed' && event !== 'failed') return;
  const jobId = field(fields, 'jobId');
  if (jobId === undefined) return;
  if (event === 'completed') waiters.completed(jobId);
  else waiters.failed(jobId, field(fields, 'failedReason') ?? 'failed');
}

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
