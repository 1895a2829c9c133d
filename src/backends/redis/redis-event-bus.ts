import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ALL_JOBS, type ControlMessage, EventBus, type EventListener, FINAL_EVENTS, type JobEvent } from '../../jobs/event-bus';
import { connectRedis, subscribeSafely, whenReady } from './redis-connection';

/** One Redis subscription shared by this instance's local listeners of a topic. */
interface Topic {
  listeners: Set<EventListener>;
  /** Settles once Redis acknowledged the SUBSCRIBE (or PSUBSCRIBE). */
  subscribed: Promise<unknown>;
}

/**
 * The event bus of the cluster mode, on Redis pub/sub. A job's events go to `{p}:ev:{jobId}`;
 * `*` is a PSUBSCRIBE on `{p}:ev:*` rather than a second PUBLISH to an "all" channel: every
 * event then costs one command whether or not anybody watches `*`, and matching one pattern
 * per watching instance is cheap for Redis. Each instance holds one Redis subscription per
 * topic and fans out locally. Control messages go to `{p}:control`, which every instance
 * (this one included) subscribes to from the start.
 *
 * The publisher is a fail-fast connection (publishing while Redis is down drops the event and
 * logs once per outage; subscribers re-read a snapshot when they reconnect), the subscriber a
 * dedicated connection that ioredis re-subscribes by itself after an outage. Both are owned by
 * the bus: close() disconnects them.
 */
/** The channel of a job's events (the job store publishes task updates there too, atomically with storing them). */
export function jobEventChannel(prefix: string, jobId: string): string {
  return `${prefix}:ev:${jobId}`;
}

/** A job event as it goes over Redis (JSON); RedisJobStore renders task.progress in the same shape. */
export function wireEvent(event: JobEvent): string {
  return JSON.stringify({ event: event.event, jobId: event.jobId, owner: event.owner, seq: event.seq, data: event.data });
}

/** Local topic of a job's end channel (job ids never contain a space). */
const END_TOPIC = 'end ';

export class RedisEventBus extends EventBus {
  private readonly logger = new Logger(RedisEventBus.name);
  private readonly topics = new Map<string, Topic>();
  private readonly controlChannel: string;
  private readonly allPattern: string;
  /** Of the channels that carry one job's final event only: `{p}:end:{id}`. */
  private readonly endPrefix: string;
  private readonly controlSubscribed: Promise<unknown>;
  private outage = false;

  /**
   * Opens a fail-fast publisher and a blocking subscriber; resolves once the control channel is
   * subscribed, or after `waitMs` (Redis down at boot: the subscription completes when it is back).
   */
  static async connect(url: string, prefix: string, waitMs = 5_000): Promise<RedisEventBus> {
    const bus = new RedisEventBus(connectRedis(url, { name: 'events-pub' }), connectRedis(url, { blocking: true, name: 'events-sub' }), prefix);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([bus.controlSubscribed, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    return bus;
  }

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
  ) {
    super();
    this.controlChannel = `${prefix}:control`;
    this.allPattern = `${escapeGlob(prefix)}:ev:*`;
    this.endPrefix = `${prefix}:end:`;
    subscriber.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    subscriber.on('pmessage', (pattern: string, _channel: string, message: string) => {
      if (pattern === this.allPattern) this.deliver(ALL_JOBS, message);
    });
    publisher.on('ready', () => (this.outage = false));
    this.controlSubscribed = subscribeSafely(subscriber, () => subscriber.subscribe(this.controlChannel));
    // A failure here shows again in signal(); an unawaited rejection must not crash the process.
    this.controlSubscribed.catch(() => {});
  }

  async publish(event: JobEvent): Promise<void> {
    const message = wireEvent(event);
    // A job's end also goes to its end channel, for those who wait for nothing else (subscribeEnd).
    const channels = FINAL_EVENTS.has(event.event) ? [this.jobChannel(event.jobId), this.endChannel(event.jobId)] : [this.jobChannel(event.jobId)];
    await Promise.all(channels.map((channel) => this.publisher.publish(channel, message))).catch((error: Error) => this.reportOutage(error));
  }

  subscribe(topic: string, listener: EventListener): Promise<() => void> {
    return this.listen(topic, listener);
  }

  subscribeEnd(jobId: string, listener: EventListener): Promise<() => void> {
    return this.listen(`${END_TOPIC}${jobId}`, listener);
  }

  /** Topics: a job id, `*`, or END_TOPIC + a job id (its end channel). */
  private async listen(topic: string, listener: EventListener): Promise<() => void> {
    let entry = this.topics.get(topic);
    if (!entry) {
      const subscribed = subscribeSafely(this.subscriber, () => (topic === ALL_JOBS ? this.subscriber.psubscribe(this.allPattern) : this.subscriber.subscribe(this.channelOf(topic))));
      entry = { listeners: new Set(), subscribed };
      this.topics.set(topic, entry);
    }
    const current = entry;
    current.listeners.add(listener);
    try {
      await current.subscribed;
    } catch (error) {
      this.release(topic, current, listener);
      throw error;
    }
    return () => this.release(topic, current, listener);
  }

  mayHaveSubscribers(): boolean {
    // Subscribers on other instances are invisible from here.
    return true;
  }

  async signal(message: ControlMessage): Promise<void> {
    await this.controlSubscribed;
    await this.publisher.publish(this.controlChannel, JSON.stringify(message));
  }

  async close(): Promise<void> {
    this.topics.clear();
    this.forgetReceivers();
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }

  /** Resolves when both connections are ready (tests, readiness). */
  async ready(ms?: number): Promise<void> {
    await Promise.all([whenReady(this.publisher, ms), whenReady(this.subscriber, ms)]);
  }

  private release(topic: string, entry: Topic, listener: EventListener): void {
    entry.listeners.delete(listener);
    if (entry.listeners.size > 0 || this.topics.get(topic) !== entry) return;
    this.topics.delete(topic);
    // Commands on one connection run in order: a later SUBSCRIBE of the same topic lands after this.
    const done = topic === ALL_JOBS ? this.subscriber.punsubscribe(this.allPattern) : this.subscriber.unsubscribe(this.channelOf(topic));
    done.catch(() => {});
  }

  private onMessage(channel: string, message: string): void {
    if (channel === this.controlChannel) {
      const control = parse<ControlMessage>(message);
      if (control) this.received(control);
      return;
    }
    if (channel.startsWith(this.endPrefix)) this.deliver(`${END_TOPIC}${channel.slice(this.endPrefix.length)}`, message);
    else this.deliver(channel.slice(this.prefix.length + ':ev:'.length), message);
  }

  private deliver(topic: string, message: string): void {
    const entry = this.topics.get(topic);
    if (!entry) return;
    const event = parse<JobEvent>(message);
    if (!event) return;
    // A copy: a listener may unsubscribe itself (a final event ends an SSE stream).
    for (const listener of [...entry.listeners]) listener(event);
  }

  private reportOutage(error: Error): void {
    if (this.outage) return;
    this.outage = true;
    this.logger.warn(`events are not published while Redis is unreachable: ${error.message}`);
  }

  private jobChannel(jobId: string): string {
    return jobEventChannel(this.prefix, jobId);
  }

  /** `{p}:end:{id}` carries only the job's final event; `{p}:ev:*` does not match it. */
  private endChannel(jobId: string): string {
    return `${this.endPrefix}${jobId}`;
  }

  private channelOf(topic: string): string {
    return topic.startsWith(END_TOPIC) ? this.endChannel(topic.slice(END_TOPIC.length)) : this.jobChannel(topic);
  }
}

function parse<T>(message: string): T | undefined {
  try {
    return JSON.parse(message) as T;
  } catch {
    return undefined;
  }
}

/** A prefix is literal text: its glob characters must not widen the `*` pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]]/g, '\\$&');
}
