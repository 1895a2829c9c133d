import { setMaxListeners } from 'node:events';
import { type MessagePort, threadId } from 'node:worker_threads';
import type { ControlMessage, PortMessage, TaskEnd, TaskUpdate } from './task-protocol';

/**
 * Worker-side sender of task updates. It batches updates so that a chunk of thousands of
 * small numbers costs a few port messages, not thousands. Work in a worker is mostly
 * synchronous, so batching is driven by the clock at each push rather than by timers.
 *
 * Without a port (a short task the scheduler runs without streaming), it only collects the
 * updates, and `end()` hands them back to be returned as the task's result.
 */
export class UpdateReporter {
  private buffer: TaskUpdate[] = [];
  private lastFlush = performance.now();
  /** Messages posted on the port so far (TaskEnd.posted). */
  private posted = 0;
  private readonly stopper = new AbortController();
  /** Aborted when the main thread asks this task to stop (cancel or timeout of an I/O task). */
  readonly signal = this.stopper.signal;

  /** `first`: updates known when the task starts (the pages of a group running), sent with `started`. */
  constructor(
    private readonly port: MessagePort | undefined,
    private readonly flushMs = 20,
    private readonly maxBatch = 1000,
    first: TaskUpdate[] = [],
  ) {
    // Every page of a crawl group (up to 32) and each of their fetches listen to it while they
    // run: more than Node's default of 10, which only prints a leak warning; the signal dies with the task.
    setMaxListeners(0, this.signal);
    if (!port) {
      this.buffer.push(...first);
      return;
    }
    port.on('message', (message: ControlMessage) => {
      if (message.abort) this.stopper.abort(new Error('task stopped by the main thread'));
    });
    this.post(first.length > 0 ? { started: true, thread: threadId, updates: first } : { started: true, thread: threadId });
  }

  push(update: TaskUpdate): void {
    this.buffer.push(update);
    if (this.port && (this.buffer.length >= this.maxBatch || performance.now() - this.lastFlush >= this.flushMs)) {
      this.flush();
    }
  }

  /** Buffers an update without posting it: the task's last, which rides on finish() or end(). */
  hold(update: TaskUpdate): void {
    this.buffer.push(update);
  }

  flush(): void {
    this.lastFlush = performance.now();
    if (!this.port || this.buffer.length === 0) return;
    this.post({ updates: this.buffer });
    this.buffer = [];
  }

  /** Sends what is left, then the end marker the main thread waits for; or, without a port, returns the updates. */
  end(): TaskUpdate[] | undefined {
    if (!this.port) return this.buffer;
    this.post(this.buffer.length > 0 ? { updates: this.buffer, end: true } : { end: true });
    this.buffer = [];
    this.port.removeAllListeners('message');
    return undefined;
  }

  /**
   * Ends the task with what is left riding on its result, which the worker returns: one port
   * message less than end(). Without a port it returns the updates, as end() does.
   */
  finish(): TaskEnd | TaskUpdate[] {
    if (!this.port) return this.buffer;
    const end: TaskEnd = { taskEnd: true, updates: this.buffer, posted: this.posted };
    this.buffer = [];
    this.port.removeAllListeners('message');
    return end;
  }

  private post(message: PortMessage): void {
    this.port!.postMessage(message);
    this.posted++;
  }
}
