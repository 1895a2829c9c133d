import type { JobsService } from '../jobs/jobs.service';
import { ALL_JOBS } from '../jobs/event-bus';
import { FINAL_EVENTS, toWire, type WireMessage } from './feed-protocol';

export interface FeedSink {
  send(message: WireMessage): void;
  /** The watched job reached its final event (never called for `*`). */
  end(): void;
}

/**
 * Connects one subscriber to a job's events: snapshot first, then updates, then the final event,
 * after which the feed closes itself. Throws 404 (before sending anything) for an unknown job.
 */
export async function openFeed(jobs: JobsService, topic: string, owner: string | undefined, sink: FeedSink, afterSeq?: number): Promise<() => void> {
  let ended = false;
  let stop: (() => void) | undefined;
  stop = await jobs.watch(
    topic,
    owner,
    (event) => {
      if (ended) return;
      sink.send(toWire(event));
      if (topic !== ALL_JOBS && FINAL_EVENTS.has(event.event)) {
        ended = true;
        stop?.();
        sink.end();
      }
    },
    afterSeq,
  );
  // The final event may have come before `stop` existed.
  if (ended) stop();
  return () => {
    ended = true;
    stop?.();
  };
}
