/**
 * Fan-out of job events to whoever watches them (WebSocket clients, SSE streams, waiters) and of
 * control messages to every instance. In-process by default (MemoryEventBus); the cluster mode
 * carries the same messages over Redis pub/sub (RedisEventBus), behind this one contract
 * (test/contracts/event-bus.contract.ts runs against both).
 */
export const EVENT_NAMES = ['job.created', 'job.started', 'job.snapshot', 'task.progress', 'job.completed', 'job.failed', 'job.cancelled'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/** The events that end a job's stream; one of them is published when a job ends. */
export const FINAL_EVENTS: ReadonlySet<string> = new Set<EventName>(['job.completed', 'job.failed', 'job.cancelled']);

/** What goes on the wire: `{"event": ..., "seq": ..., "data": ...}`, over WebSocket and SSE alike. */
export interface JobEvent {
  event: EventName;
  jobId: string;
  /** The job's owner, so a feed never shows one key's jobs to another. */
  owner?: string;
  /** The job's seq after the change this event reports (see JobStore): snapshot + later seqs = every change once. */
  seq: number;
  data: unknown;
}

export type EventListener = (event: JobEvent) => void;

/**
 * Sent to every instance: a job was cancelled (stop its tasks wherever they run), or its
 * coordinator gave its lease back while shutting down (another instance takes it over now,
 * rather than at its next look for orphaned jobs).
 */
export type ControlMessage = { type: 'cancel'; jobId: string; reason: string } | { type: 'released'; jobId: string };

/** Topic `*` receives the events of every job. */
export const ALL_JOBS = '*';

export abstract class EventBus {
  /**
   * Delivers to every subscriber of the job's topic and of `*`, on every instance; one publisher's
   * events keep their order. Resolves once the event is on its way (never rejects: a lost event is
   * logged; subscribers recover from the next snapshot).
   */
  abstract publish(event: JobEvent): Promise<void>;
  /** Resolves once subscribed: every event published after that reaches `listener`. Returns the unsubscribe. */
  abstract subscribe(topic: string, listener: EventListener): Promise<() => void>;
  /**
   * Like subscribe to the job's topic, for its final event only (FINAL_EVENTS): a caller that only
   * waits for a job's end (`?wait`) is not sent every task.progress of a big job on the way. It
   * does not count as a subscriber for mayHaveSubscribers.
   */
  abstract subscribeEnd(jobId: string, listener: EventListener): Promise<() => void>;
  /** False only when nobody anywhere can receive the job's events (so building them can be skipped). */
  abstract mayHaveSubscribers(jobId: string): boolean;
  /** Sends a control message to every instance, this one included. */
  abstract signal(message: ControlMessage): Promise<void>;
  abstract close(): Promise<void>;

  /** This instance's receivers of control messages (the same in every implementation). */
  private readonly controls = new Set<(message: ControlMessage) => void>();

  onSignal(listener: (message: ControlMessage) => void): () => void {
    this.controls.add(listener);
    return () => this.controls.delete(listener);
  }

  /** Hands a control message that reached this instance to its receivers. */
  protected received(message: ControlMessage): void {
    // A copy: a receiver may stop listening while it handles the message.
    for (const listener of [...this.controls]) listener(message);
  }

  protected forgetReceivers(): void {
    this.controls.clear();
  }
}
