import type { AdmissionFigures, Held } from './job-data';
import type { Reservation } from './job-kind';

const nothingHeld = (): Held => ({ jobs: 0, resultBytes: 0, crawlPages: 0, crawlFetches: 0 });

/**
 * The memory store's admission figures: what each caller's unfinished jobs hold, the queue
 * depth, and a version that changes with every job taken in (see JobStore.create).
 */
export class AdmissionLedger {
  private readonly held = new Map<string, Held>();
  private queued = 0;
  private version = 0;

  figures(callerId: string): AdmissionFigures {
    return { held: { ...(this.held.get(callerId) ?? nothingHeld()) }, queued: this.queued, version: String(this.version) };
  }

  isCurrent(version: string): boolean {
    return version === String(this.version);
  }

  /** A job came in: it holds its reservation until release(). */
  hold(callerId: string, reservation: Reservation): void {
    this.version++;
    const held = this.held.get(callerId) ?? nothingHeld();
    held.jobs++;
    held.resultBytes += reservation.resultBytes;
    held.crawlPages += reservation.crawlPages;
    held.crawlFetches += reservation.crawlFetches;
    this.held.set(callerId, held);
    this.queued += reservation.tasks;
  }

  /** One of a job's reserved tasks finished. */
  taskDone(): void {
    this.queued--;
  }

  /** The job ended: its holdings and what is left of its queue share go. */
  release(callerId: string, reservation: Reservation, tasksDone: number): void {
    this.queued -= Math.max(0, reservation.tasks - tasksDone);
    const held = this.held.get(callerId);
    if (!held) return;
    held.jobs--;
    held.resultBytes -= reservation.resultBytes;
    held.crawlPages -= reservation.crawlPages;
    held.crawlFetches -= reservation.crawlFetches;
    if (held.jobs <= 0) this.held.delete(callerId);
  }
}
