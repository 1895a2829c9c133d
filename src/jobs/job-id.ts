import { Injectable, NotFoundException, type PipeTransform } from '@nestjs/common';

/** A job id as JobsService makes them (crypto.randomUUID: lowercase, hyphenated). */
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Whether `id` can be a job's. Checked before any store call: an id becomes part of a key name in
 * the Redis store, so `<id>:st` would name another job's part (a type error there, which told
 * that the job exists) and `*` a pattern. Anything else is answered as an unknown job is.
 */
export const isJobId = (id: string): boolean => JOB_ID.test(id);

/** The 404 of an unknown job (JobsService words it the same), naming at most the start of a long id. */
export function jobNotFound(id: string): NotFoundException {
  return new NotFoundException(`job ${id.length > 64 ? `${id.slice(0, 64)}…` : id} not found`);
}

/** `@Param('id', JobIdPipe)`: a route's job id, or 404 before the route runs. */
@Injectable()
export class JobIdPipe implements PipeTransform<string, string> {
  transform(id: string): string {
    if (!isJobId(id)) throw jobNotFound(id);
    return id;
  }
}
