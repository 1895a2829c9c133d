import { describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../backends/backend-unavailable';
import { untilAvailable } from './outage-retry';

const isOutage = (error: unknown) => error instanceof BackendUnavailableError;

describe('untilAvailable', () => {
  it('repeats an attempt through an outage, says when it started and ended, and returns the value', async () => {
    let calls = 0;
    const told: string[] = [];
    const value = await untilAvailable(
      async () => {
        if (++calls < 4) throw new BackendUnavailableError('store', new Error('Connection is closed.'));
        return 'stored';
      },
      { isOutage, onOutage: () => told.push('down'), onRecovered: () => told.push('up') },
    );
    expect(value).toBe('stored');
    expect(calls).toBe(4);
    expect(told).toEqual(['down', 'up']);
  });

  it('throws any other error at once, without repeating', async () => {
    let calls = 0;
    const failure = await untilAvailable(
      async () => {
        calls++;
        throw new Error('WRONGTYPE');
      },
      { isOutage },
    ).catch((error: Error) => error);
    expect(failure.message).toBe('WRONGTYPE');
    expect(calls).toBe(1);
  });

  it('stops waiting when its signal is aborted, with the signal reason', async () => {
    const stop = new AbortController();
    const waiting = untilAvailable(
      async () => {
        throw new BackendUnavailableError('store', new Error('down'));
      },
      { isOutage, signal: stop.signal },
    ).catch((error: Error) => error);
    stop.abort(new Error('handed back'));
    expect(((await waiting) as Error).message).toBe('handed back');
  });
});
