import { addToKeyedSet } from '../../common/keyed-sets';
import { ALL_JOBS, type ControlMessage, EventBus, type EventListener, type JobEvent } from '../../jobs/event-bus';

/** The embedded mode's bus: every subscriber is in this process. */
export class MemoryEventBus extends EventBus {
  private readonly topics = new Map<string, Set<EventListener>>();

  async publish(event: JobEvent): Promise<void> {
    this.deliver(event.jobId, event);
    this.deliver(ALL_JOBS, event);
  }

  async subscribe(topic: string, listener: EventListener): Promise<() => void> {
    return addToKeyedSet(this.topics, topic, listener);
  }

  mayHaveSubscribers(jobId: string): boolean {
    return this.topics.has(jobId) || this.topics.has(ALL_JOBS);
  }

  async signal(message: ControlMessage): Promise<void> {
    this.received(message);
  }

  async close(): Promise<void> {
    this.topics.clear();
    this.forgetReceivers();
  }

  private deliver(topic: string, event: JobEvent): void {
    const listeners = this.topics.get(topic);
    if (!listeners) return;
    // A copy: a listener may unsubscribe itself (a final event ends an SSE stream).
    for (const listener of [...listeners]) listener(event);
  }
}
