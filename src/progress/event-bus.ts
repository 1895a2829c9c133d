/**
 * Fan-out of job events to whoever watches them (WebSocket clients, SSE streams, waiters).
 * In-process by default; the multi-node mode carries the same events over Redis pub/sub.
 */
export const EVENT_NAMES = ['job.created', 'job.started', 'job.snapshot', 'task.progress', 'job.completed', 'job.failed', 'job.cancelled'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/** What goes on the wire: `{"event": ..., "data": ...}`, over WebSocket and SSE alike. */
export interface JobEvent {
  event: EventName;
  jobId: string;
  /** The job's owner, so a feed never shows one key's jobs to another. */
  owner?: string;
  data: unknown;
}

export type EventListener = (event: JobEvent) => void;

/** Topic `*` receives the events of every job. */
export const ALL_JOBS = '*';

export abstract class EventBus {
  abstract publish(event: JobEvent): void;
  /** Returns the function that ends the subscription. */
  abstract subscribe(topic: string, listener: EventListener): () => void;
  /** Whether anyone receives this job's events (its own topic or `*`). */
  abstract hasSubscribers(jobId: string): boolean;
}

export class MemoryEventBus extends EventBus {
  private readonly topics = new Map<string, Set<EventListener>>();

  publish(event: JobEvent): void {
    this.deliver(event.jobId, event);
    this.deliver(ALL_JOBS, event);
  }

  subscribe(topic: string, listener: EventListener): () => void {
    let listeners = this.topics.get(topic);
    if (!listeners) this.topics.set(topic, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.topics.get(topic) === listeners) this.topics.delete(topic);
    };
  }

  hasSubscribers(jobId: string): boolean {
    return this.topics.has(jobId) || this.topics.has(ALL_JOBS);
  }

  private deliver(topic: string, event: JobEvent): void {
    const listeners = this.topics.get(topic);
    if (!listeners) return;
    // A copy: a listener may unsubscribe itself (a final event ends an SSE stream).
    for (const listener of [...listeners]) listener(event);
  }
}
