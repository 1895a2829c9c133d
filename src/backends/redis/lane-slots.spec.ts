import { describe, expect, it } from 'vitest';
import { LaneSlots } from './lane-slots';

describe('LaneSlots', () => {
  it('gives direct runs free slots only, and tells the worker what they leave it (at least 1)', () => {
    const told: number[] = [];
    const slots = new LaneSlots(2, (count) => told.push(count));
    expect(slots.tryTakeHere()).toBe(true);
    expect(slots.tryTakeHere()).toBe(true);
    expect(slots.tryTakeHere()).toBe(false);
    slots.releaseHere();
    expect(told).toEqual([1, 1, 1]);
    slots.releaseHere();
    expect(told).toEqual([1, 1, 1, 2]);
  });

  it('makes queued tasks wait for a slot, in order, and hands a freed slot to the next one', async () => {
    const slots = new LaneSlots(1, () => {});
    expect(slots.tryTakeHere()).toBe(true);
    const order: string[] = [];
    const first = slots.take(new AbortController().signal).then((got) => order.push(`first ${got}`));
    const second = slots.take(new AbortController().signal).then((got) => order.push(`second ${got}`));
    await Promise.resolve();
    expect(order).toEqual([]);
    slots.releaseHere();
    await first;
    expect(order).toEqual(['first true']);
    // A direct run finds no free slot while the queued task holds the one handed to it.
    expect(slots.tryTakeHere()).toBe(false);
    slots.release();
    await second;
    slots.release();
    expect(slots.tryTakeHere()).toBe(true);
  });

  it('lets a waiting task give up when its signal aborts, without taking a slot', async () => {
    const slots = new LaneSlots(1, () => {});
    expect(slots.tryTakeHere()).toBe(true);
    const controller = new AbortController();
    const waiting = slots.take(controller.signal);
    controller.abort();
    expect(await waiting).toBe(false);
    slots.releaseHere();
    expect(slots.tryTakeHere()).toBe(true);
  });
});
