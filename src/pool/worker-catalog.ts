import { Injectable } from '@nestjs/common';
import type { WorkerName, WorkerProfile, WorkerSpec } from './task-scheduler';

/**
 * The worker entry points the pool can run, as job kinds registered them at start-up (JobKinds
 * does it for each kind's `workers`). The pool names none itself.
 */
@Injectable()
export class WorkerCatalog {
  private readonly workers = new Map<WorkerName, WorkerSpec>();

  register(spec: WorkerSpec): void {
    const known = this.workers.get(spec.name);
    if (known && (known.file !== spec.file || known.profile !== spec.profile)) throw new Error(`worker "${spec.name}" is registered twice with different files or profiles`);
    this.workers.set(spec.name, spec);
  }

  get(name: WorkerName): WorkerSpec | undefined {
    return this.workers.get(name);
  }

  profileOf(name: WorkerName): WorkerProfile {
    return this.workers.get(name)?.profile ?? 'cpu';
  }

  all(): WorkerSpec[] {
    return [...this.workers.values()];
  }
}
