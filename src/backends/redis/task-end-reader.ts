import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { TaskWaiters } from './task-waiters';

/** One BullMQ queue's event stream and the runs of this instance waiting on its jobs. */
export interface EndStream {
  key: string;
  waiters: TaskWaiters;
}

/**
 * Pause between two reads while runs wait: how late an end that no instance announced (a task
 * failed by BullMQ's stall check, an announcement lost in an outage) is seen at worst.
 */
const EVERY_MS = 250;
/** Events per stream per read: a reader that lagged catches up in a few reads. */
const READ_COUNT = 1_000;
/** Pause after a failed read (Redis down: the connection queues the next one until it is back). */
const RETRY_MS = 200;

/**
 * The durable record of BullMQ jobs' ends, for the runs waiting on this instance: `completed` and
 * `failed` are written to the queue's event stream by the same Lua script that ends the job, so
 * a job that ends unannounced (failed by the stall check, its instance killed right after) or
 * whose announcement was lost (pub/sub during an outage) is still seen here. Both queues' streams
 * are read in one XREAD, every EVERY_MS while a run waits and not at all otherwise; reads resume
 * from the last event seen, so nothing between two waits is missed.
 *
 * The fast paths are elsewhere (BullTaskQueue): a job that ended here settles its runs at once,
 * and one that ended on another instance is announced to all. BullMQ's QueueEvents instead read
 * every event on every instance as it came: on a crawl of small pages, one XREAD per job or two
 * on each instance, most of them on instances that waited for nothing.
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
    let behind = false;
    while (this.waiting()) {
      // A read that came back full is followed at once: the reader never falls behind the streams.
      if (!behind) await new Promise((wake) => setTimeout(wake, EVERY_MS));
      behind = false;
      if (!this.waiting()) return;
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await this.redis.xread('COUNT', READ_COUNT, 'STREAMS', ...keys, ...this.from)) as typeof reply;
      } catch {
        if (this.closed) return;
        await new Promise((wake) => setTimeout(wake, RETRY_MS));
        continue;
      }
      for (const [key, entries] of reply ?? []) {
        const at = keys.indexOf(key);
        if (at < 0) continue;
        if (entries.length >= READ_COUNT) behind = true;
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
