/**
 * The job model shared by every job kind: a job is a list of tasks, each with a state and,
 * once finished, a result or an error. Kinds differ only in what a task is and what it yields.
 */
import { isFinished, type TaskState } from '../pool/task-protocol';

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const JOB_KINDS = ['fibonacci', 'crawl'] as const;
export type JobKindName = (typeof JOB_KINDS)[number];

export function isFinal(status: JobStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** One character per task state in compact task maps (snapshots, dashboards). */
export const STATE_CODES: Record<TaskState, string> = {
  queued: 'q',
  running: 'r',
  completed: 'c',
  failed: 'f',
  cancelled: 'x',
};

export class JobRecord<TInput = unknown, TResult = unknown> {
  status: JobStatus = 'queued';
  readonly createdAt = Date.now();
  startedAt?: number;
  finishedAt?: number;
  /** Why the job ended failed or cancelled. */
  reason?: string;
  completed = 0;
  failed = 0;
  cancelled = 0;
  /** Bytes the stored results take, for retention limits. */
  resultBytes = 0;
  /** Sequence number of the last event published for this job. */
  seq = 0;
  readonly states: TaskState[];
  readonly results: (TResult | undefined)[];
  readonly errors: (string | undefined)[] = [];
  /** Kind-specific running totals (a crawl's pages, links and bytes), shown with the job. */
  summary?: Record<string, number>;
  /** Task progress 0..1 for running tasks that report it. */
  readonly progress = new Map<number, number>();

  constructor(
    readonly id: string,
    readonly kind: JobKindName,
    /** What each task works on, by index (the n of a Fibonacci task, the URL of a page). */
    readonly inputs: TInput[],
    /** The API key that created the job, if keys are on. */
    readonly owner?: string,
    /** The request's options, for kinds whose tasks are not all known upfront (a crawl). */
    readonly params?: unknown,
  ) {
    this.states = new Array<TaskState>(inputs.length).fill('queued');
    this.results = new Array<TResult | undefined>(inputs.length);
  }

  get total(): number {
    return this.inputs.length;
  }

  get finished(): number {
    return this.completed + this.failed + this.cancelled;
  }

  /** Moves a task to a new state; false when the task had already finished (updates are idempotent). */
  transition(index: number, state: TaskState): boolean {
    const current = this.states[index];
    if (current === undefined || isFinished(current)) return false;
    if (current === state && state !== 'running') return false;
    this.states[index] = state;
    if (state === 'completed') this.completed++;
    else if (state === 'failed') this.failed++;
    else if (state === 'cancelled') this.cancelled++;
    if (isFinished(state)) this.progress.delete(index);
    return true;
  }

  /** Adds a task while the job runs (a crawl discovers pages as it goes); returns its index. */
  addTask(input: TInput): number {
    this.inputs.push(input);
    this.states.push('queued');
    this.results.push(undefined);
    return this.inputs.length - 1;
  }

  taskMap(): string {
    return this.states.map((state) => STATE_CODES[state]).join('');
  }
}
