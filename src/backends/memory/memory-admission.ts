import type { AdmissionFigures, Held } from '../../jobs/job-data';
import type { Reservation } from '../../jobs/job-kind';

const nothingHeld = (): Held => ({ jobs: 0, resultBytes: 0, counters: {} });

/**
 * The memory store's admission figures: what each caller's unfinished jobs hold, the queue
 * depth, and a version that changes with every job taken in (see JobStore.create).
 */
export class AdmissionLedger {
  private readonly held = new Map<string, Held>();
  private queued = 0;
  private version = 0;

  figures(callerId: string): AdmissionFigures {
    const held = this.held.get(callerId) ?? nothingHeld();
    return { held: { ...held, counters: { ...held.counters } }, queued: this.queued, version: String(this.version) };
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
    for (const [name, n] of Object.entries(reservation.counters ?? {})) held.counters[name] = (held.counters[name] ?? 0) + n;
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
    for (const [name, n] of Object.entries(reservation.counters ?? {})) {
      const left = (held.counters[name] ?? 0) - n;
      if (left > 0) held.counters[name] = left;
      else delete held.counters[name];
    }
    if (held.jobs <= 0) this.held.delete(callerId);
  }
}
