import { Injectable } from '@nestjs/common';
import { WorkerCatalog } from '../pool/worker-catalog';
import type { CounterBound, JobKind } from './job-kind';
import { type JobKindName, KIND_NAME } from './job.model';

/**
 * Every job kind, registered at start-up by its module: a job taken over from another instance,
 * or a pool task run here for a job accepted elsewhere, finds its kind by name.
 */
@Injectable()
export class JobKinds {
  private readonly kinds = new Map<JobKindName, JobKind<any, any>>();
  /** Every kind's counters by name, for admission. */
  readonly counters = new Map<string, CounterBound>();

  /** `workers`: where a kind's worker entry points go; absent in unit tests that run no pool. */
  constructor(private readonly workers?: WorkerCatalog) {}

  register(kind: JobKind<any, any>): void {
    if (!KIND_NAME.test(kind.name)) throw new Error(`job kind name "${kind.name}" must match ${KIND_NAME}`);
    if (this.kinds.has(kind.name)) throw new Error(`job kind "${kind.name}" is registered twice`);
    this.kinds.set(kind.name, kind);
    for (const worker of kind.workers ?? []) this.workers?.register(worker);
    for (const counter of kind.counters ?? []) {
      if (this.counters.has(counter.name)) throw new Error(`counter "${counter.name}" of job kind "${kind.name}" is declared twice`);
      this.counters.set(counter.name, counter);
    }
  }

  has(name: string): boolean {
    return this.kinds.has(name);
  }

  /** The registered kinds' names, in registration order. */
  names(): string[] {
    return [...this.kinds.keys()];
  }

  all(): JobKind<any, any>[] {
    return [...this.kinds.values()];
  }

  get(name: JobKindName): JobKind<any, any> {
    const kind = this.kinds.get(name);
    if (!kind) throw new Error(`no job kind "${name}" is registered`);
    return kind;
  }
}
