import type { JobContext } from './job-kind';

/** Summary writes at most this often while a job runs (each is a store write); the last one always. */
const SUMMARY_EVERY_MS = 100;

/** Writes a kind's running totals to the store when they changed, throttled. */
export class SummaryWriter {
  private last = '';
  private writtenAt = 0;

  constructor(
    private readonly context: Pick<JobContext<unknown, unknown>, 'setSummary'>,
    private readonly read: () => Record<string, number>,
  ) {}

  async write(force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.writtenAt < SUMMARY_EVERY_MS) return;
    const summary = this.read();
    const json = JSON.stringify(summary);
    if (json === this.last) return;
    this.last = json;
    this.writtenAt = now;
    await this.context.setSummary(summary);
  }
}
