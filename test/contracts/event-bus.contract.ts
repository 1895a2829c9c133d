import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALL_JOBS, type ControlMessage, type EventBus, type JobEvent } from '../../src/jobs/event-bus';
import { describeCapability } from './capabilities';

/**
 * What every EventBus implementation promises (the memory one in-process, the Redis one across
 * instances). Each case runs with its publisher and subscriber on one bus, and again on two
 * instances when the implementation shares its bus across instances.
 */
export interface EventBusHarness {
  /** The implementation, as the skip reasons name it. */
  name: string;
  capabilities: {
    /** Every bus() within a case is another instance on one backend, and they hear each other. */
    sharedAcrossInstances: boolean;
  };
  bus(): Promise<EventBus>;
  /** Closes what bus() opened. */
  cleanup(): Promise<void>;
}

export function eventBusContract(harness: EventBusHarness): void {
  const { name, capabilities } = harness;
  describe(`EventBus contract: ${name}`, () => {
    afterEach(() => harness.cleanup());

    describe('one instance: publisher and subscriber on one bus', () => {
      busCases(async () => {
        const bus = await harness.bus();
        return [bus, bus];
      });
    });

    describeCapability(name, 'sharedAcrossInstances', capabilities.sharedAcrossInstances, () => {
      busCases(async () => [await harness.bus(), await harness.bus()]);
    });
  });
}

/** The cases, with `a` publishing (and signalling) and `b` subscribing. */
function busCases(pair: () => Promise<[EventBus, EventBus]>): void {
  let a: EventBus;
  let b: EventBus;
  beforeEach(async () => {
    [a, b] = await pair();
  });

  it('delivers a job event to subscribers of its job and of *, not to other jobs', async () => {
    const forJob = recorder();
    const forAll = recorder();
    const forOther = recorder();
    await b.subscribe('job-1', forJob.listener);
    await b.subscribe(ALL_JOBS, forAll.listener);
    await b.subscribe('job-2', forOther.listener);
    a.publish(event('job-1', 1));
    a.publish(event('job-3', 1));
    await until(() => forJob.events.length === 1 && forAll.events.length === 2);
    expect(forJob.events).toEqual([event('job-1', 1)]);
    expect(forAll.events.map((e) => e.jobId)).toEqual(['job-1', 'job-3']);
    // The last publish reached * after job-2 would have got job-1: nothing can still be on its way.
    expect(forOther.events).toEqual([]);
  });

  it("sends an end subscriber the job's final event only, once, and not other jobs' ends", async () => {
    const ends = recorder();
    const all = recorder();
    await b.subscribeEnd('job-1', ends.listener);
    await b.subscribe('job-1', all.listener);
    const end: JobEvent = { event: 'job.completed', jobId: 'job-1', owner: 'key-1', seq: 3, data: { status: 'completed' } };
    a.publish(event('job-1', 1));
    a.publish({ ...end, jobId: 'job-2' });
    a.publish(event('job-1', 2));
    a.publish(end);
    // The job's own subscriber got everything, the final event last: the end subscriber's is on its way too.
    await until(() => all.events.length === 3 && ends.events.length === 1);
    expect(all.events.map((e) => e.event)).toEqual(['task.progress', 'task.progress', 'job.completed']);
    expect(ends.events).toEqual([end]);
  });

  it('does not count an end subscriber as a subscriber of the job (its progress need not be built)', async () => {
    const memoryOnly = b.mayHaveSubscribers('job-9');
    await b.subscribeEnd('job-9', () => {});
    expect(b.mayHaveSubscribers('job-9')).toBe(memoryOnly);
  });

  it("keeps one publisher's events in order", async () => {
    const forJob = recorder();
    const forAll = recorder();
    await b.subscribe('job-1', forJob.listener);
    await b.subscribe(ALL_JOBS, forAll.listener);
    for (let seq = 1; seq <= 500; seq++) a.publish(event('job-1', seq));
    await until(() => forJob.events.length === 500 && forAll.events.length === 500);
    const inOrder = Array.from({ length: 500 }, (_, i) => i + 1);
    expect(forJob.events.map((e) => e.seq)).toEqual(inOrder);
    expect(forAll.events.map((e) => e.seq)).toEqual(inOrder);
  });

  it('never loses an event published right after subscribe resolved', async () => {
    for (let round = 0; round < 20; round++) {
      const seen = recorder();
      const unsubscribe = await b.subscribe(`job-r${round}`, seen.listener);
      a.publish(event(`job-r${round}`, 1));
      await until(() => seen.events.length === 1);
      unsubscribe();
    }
  });

  it('stops delivering after unsubscribe, and other listeners of the topic keep theirs', async () => {
    const gone = recorder();
    const stays = recorder();
    const unsubscribe = await b.subscribe('job-1', gone.listener);
    await b.subscribe('job-1', stays.listener);
    a.publish(event('job-1', 1));
    await until(() => gone.events.length === 1 && stays.events.length === 1);
    unsubscribe();
    a.publish(event('job-1', 2));
    await until(() => stays.events.length === 2);
    expect(gone.events.map((e) => e.seq)).toEqual([1]);
  });

  it('subscribes a topic again after its last listener left', async () => {
    const first = recorder();
    (await b.subscribe('job-1', first.listener))();
    const second = recorder();
    await b.subscribe('job-1', second.listener);
    a.publish(event('job-1', 1));
    await until(() => second.events.length === 1);
    expect(first.events).toEqual([]);
  });

  it('lets a listener unsubscribe itself while events are delivered', async () => {
    const seen: number[] = [];
    const unsubscribe = await b.subscribe('job-1', (e) => {
      seen.push(e.seq);
      if (e.seq === 1) unsubscribe();
    });
    const witness = recorder();
    await b.subscribe('job-1', witness.listener);
    a.publish(event('job-1', 1));
    a.publish(event('job-1', 2));
    await until(() => witness.events.length === 2);
    expect(seen).toEqual([1]);
  });

  it("sends a control message to every instance's receivers, the sender's included", async () => {
    const atA: ControlMessage[] = [];
    const atB: ControlMessage[] = [];
    a.onSignal((m) => atA.push(m));
    b.onSignal((m) => atB.push(m));
    const message: ControlMessage = { type: 'cancel', jobId: 'job-1', reason: 'cancelled by its owner' };
    await a.signal(message);
    await until(() => atA.length >= 1 && atB.length >= 1);
    expect(atA[0]).toEqual(message);
    expect(atB[0]).toEqual(message);
  });

  it("says a job may have subscribers while someone watches it, on its instance and on the publisher's", async () => {
    await b.subscribe('job-1', () => {});
    expect(b.mayHaveSubscribers('job-1')).toBe(true);
    expect(a.mayHaveSubscribers('job-1')).toBe(true);
  });
}

export function event(jobId: string, seq: number): JobEvent {
  return { event: 'task.progress', jobId, owner: 'key-1', seq, data: { index: seq } };
}

export function recorder(): { events: JobEvent[]; listener: (event: JobEvent) => void } {
  const events: JobEvent[] = [];
  return { events, listener: (e) => events.push(e) };
}

/** Polls a condition every 10 ms; fails after `ms` instead of hanging the test. */
export async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((wake) => setTimeout(wake, 10));
  }
}
