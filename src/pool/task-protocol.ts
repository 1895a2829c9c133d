/**
 * What flows from a worker thread back to the main thread while a pool task runs. Shared by
 * every job kind and by both sides of the MessagePort, so it imports nothing.
 */
export const TASK_STATES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export function isFinished(state: TaskState): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}

/** One job task (one Fibonacci number, one crawled page) changed state or made progress. */
export interface TaskUpdate<R = unknown> {
  /** The task's position in its job. */
  index: number;
  state: TaskState;
  /** 0..1 within a long task (doubling steps done, say). */
  progress?: number;
  /** The task's full result; the main thread stores it and broadcasts only a summary. */
  result?: R;
  /** Why the task failed. */
  error?: string;
}

/**
 * Messages on the task's port. `started` is posted first, when a worker picks the task up (the
 * task timeout counts from then, not from time spent queued), with the worker's threadId (so the
 * main thread can tell a task that failed from one whose thread died), and the updates the task
 * has at its start, if any (a crawl group's pages running). `end` marks the task's last
 * update and rides on its last batch (one message less per task): the task's return value travels
 * on a different channel than the port, so the main thread waits for `end` before it treats the
 * task as done, and so never loses the final updates. A task that returns a TaskEnd posts no end
 * marker: its result says how many messages to wait for.
 */
export type PortMessage = { started: true; thread?: number; updates?: TaskUpdate[] } | { updates?: TaskUpdate[]; end?: true };

/**
 * What a worker returns to end its task with its last updates (UpdateReporter.finish()): they
 * travel in the task's result instead of a last port message, one message less per task (a crawl
 * page is a task). The result and the port are different channels, so `posted` says how many
 * port messages came before: the main thread applies these updates only once it has them all.
 */
export interface TaskEnd {
  taskEnd: true;
  updates: TaskUpdate[];
  posted: number;
}

export function isTaskEnd(value: unknown): value is TaskEnd {
  return typeof value === 'object' && value !== null && (value as Partial<TaskEnd>).taskEnd === true;
}

/** The main thread asks a running I/O task to stop (its thread is shared, so it is not killed). */
export type ControlMessage = { abort: true };
