import { BadRequestException, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import type { FieldIssue } from './error-envelope';

/** Validates with a zod schema; failures become 400 naming each field and the rule it broke. */
export abstract class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  protected abstract readonly schema: S;
  /** Prefix for field names, e.g. `query.` for query strings. */
  protected readonly where: string = '';

  transform(value: unknown): z.output<S> {
    const parsed = this.schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const issues: FieldIssue[] = parsed.error.issues.flatMap((issue) => {
      const at = issue.path.length ? `${issue.path.join('.')}` : '';
      // An unknown field is named by itself, not by the object that holds it.
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({ field: this.where + (at ? `${at}.${key}` : key), rule: 'unknown_field', message: 'is not a known field' }));
      }
      return [{ field: this.where + (at || '(body)'), rule: issue.code, message: issue.message }];
    });
    throw new BadRequestException({ message: issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues });
  }
}

/** A pipe for a fixed schema (query strings whose bounds do not depend on configuration). */
export function zodPipe<S extends z.ZodType>(schema: S, where = '') {
  return new (class extends ZodValidationPipe<S> {
    protected readonly schema = schema;
    protected override readonly where = where;
  })();
}
