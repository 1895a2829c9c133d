import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** Printable ASCII without spaces at its ends, 1-255 characters (the draft's key is an opaque string). */
const VALID_KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;

/**
 * The request's `Idempotency-Key` header for a POST that creates a job, or undefined without one.
 * A malformed key is 400 naming the header, never silently ignored (a retry would make a second job).
 */
export const IdempotencyKey = createParamDecorator((_: unknown, ctx: ExecutionContext): string | undefined => {
  const value = ctx.switchToHttp().getRequest<Request>().headers['idempotency-key'];
  if (value === undefined) return undefined;
  const field = 'header.idempotency-key';
  const message = 'must be 1-255 printable ASCII characters, given once';
  if (typeof value !== 'string' || !VALID_KEY.test(value)) throw new BadRequestException({ message: `${field}: ${message}`, issues: [{ field, rule: 'invalid_string', message }] });
  return value;
});
