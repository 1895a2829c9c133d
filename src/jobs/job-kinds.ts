import { Injectable } from '@nestjs/common';
import type { JobKind } from './job-kind';
import type { JobKindName } from './job.model';

/**
 * Every job kind, registered at start-up by its module: a job taken over from another instance,
 * or a pool task run here for a job accepted elsewhere, finds its kind by name.
 */
@Injectable()
export class JobKinds {
  private readonly kinds = new Map<JobKindName, JobKind<any, any>>();

  register(kind: JobKind<any, any>): void {
    this.kinds.set(kind.name, kind);
  }

  get(name: JobKindName): JobKind<any, any> {
    const kind = this.kinds.get(name);
    if (!kind) throw new Error(`no job kind "${name}" is registered`);
    return kind;
  }
}
