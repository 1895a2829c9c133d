import { Inject, Injectable, Logger } from '@nestjs/common';
import { BACKEND, type Backend } from '../backends/backend';
import { untilAvailable } from './outage-retry';

/**
 * Background work's way through a backend outage: each call waits, backing off, until the
 * backend answers again (untilAvailable), instead of failing its task or leaving a rejected
 * promise behind. One warning when the first call starts waiting, one line when the last is
 * through, whatever the number of calls held meanwhile.
 */
@Injectable()
export class OutageGuard {
  private readonly logger = new Logger('Backend');
  private held = 0;
  private since = 0;

  constructor(@Inject(BACKEND) private readonly backend: Backend) {}

  /** Calls held right now, waiting for the backend. */
  get waiting(): number {
    return this.held;
  }

  run<T>(what: string, attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let holding = false;
    const release = () => {
      if (!holding) return;
      holding = false;
      if (--this.held === 0) this.logger.log(`the backend answers again after ${Date.now() - this.since} ms; held work carries on`);
    };
    return untilAvailable(attempt, {
      isOutage: (error) => this.backend.isOutage(error),
      signal,
      onOutage: (error) => {
        holding = true;
        if (this.held++ === 0) {
          this.since = Date.now();
          this.logger.warn(`the backend is unreachable (${error instanceof Error ? error.message : String(error)}); ${what} and other background work wait for it`);
        }
      },
      onRecovered: release,
    }).finally(release);
  }
}
