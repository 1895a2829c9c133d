import { addToKeyedSet } from '../../common/keyed-sets';
import { ALL_JOBS, type ControlMessage, EventBus, type EventListener, FINAL_EVENTS, type JobEvent } from '../../jobs/event-bus';

/** The embedded mode's bus: every subscriber is in this process. */
export class MemoryEventBus extends EventBus {
  private readonly topics = new Map<string, Set<EventListener>>();
  /** Listeners of jobs' final events only, by job. */
  private readonly ends = new Map<string, Set<EventListener>>();

  async publish(event: JobEvent): Promise<void> {
    this.deliver(this.topics, event.jobId, event);
    this.deliver(this.topics, ALL_JOBS, event);
    if (FINAL_EVENTS.has(event.event)) this.deliver(this.ends, event.jobId, event);
  }

  async subscribe(topic: string, listener: EventListener): Promise<() => void> {
    return addToKeyedSet(this.topics, topic, listener);
  }

  async subscribeEnd(jobId: string, listener: EventListener): Promise<() => void> {
    return addToKeyedSet(this.ends, jobId, listener);
  }

  mayHaveSubscribers(jobId: string): boolean {
    return this.topics.has(jobId) || this.topics.has(ALL_JOBS);
  }

  async signal(message: ControlMessage): Promise<void> {
    this.received(message);
  }

  async close(): Promise<void> {
    this.topics.clear();
    this.ends.clear();
    this.forgetReceivers();
  }

  private deliver(from: Map<string, Set<EventListener>>, topic: string, event: JobEvent): void {
    const listeners = from.get(topic);
    if (!listeners) return;
    // A copy: a listener may unsubscribe itself (a final event ends an SSE stream).
    for (const listener of [...listeners]) listener(event);
  }
}
