/**
 * GET /jobs cursors: opaque to callers, a position in creation order plus a fingerprint of the
 * query that made it (the caller's owner and every filter). A cursor brought to another query,
 * or by another key, is refused (400 `query.cursor`) rather than reinterpreted: it could only
 * name a position, never another owner's jobs (listings are per owner whatever the cursor), but a
 * page of another query's walk would be a silently wrong page.
 */
import { createHash } from 'node:crypto';
import { BadRequestException } from '@nestjs/common';
import type { JobQuery } from './job-data';

type Filters = Omit<JobQuery, 'before' | 'limit'>;

export function encodeCursor(position: number, query: Filters): string {
  return Buffer.from(`${position}.${fingerprint(query)}`).toString('base64url');
}

/** The position the cursor continues from; 400 naming `query.cursor` unless this query made it. */
export function decodeCursor(cursor: string, query: Filters): number {
  const [position, print, ...rest] = Buffer.from(cursor, 'base64url').toString('latin1').split('.');
  const at = Number(position);
  if (rest.length > 0 || !/^[1-9][0-9]{0,15}$/.test(position) || !Number.isSafeInteger(at)) throw badCursor('must be a nextCursor this service gave');
  if (print !== fingerprint(query)) throw badCursor('was made for other filters or another API key: start again without cursor');
  return at;
}

function fingerprint({ owner, status, kind, labels, q }: Filters): string {
  const sorted = [...(labels ?? [])].map(([key, value]) => `${key}:${value}`).sort();
  return createHash('sha256')
    .update(JSON.stringify([owner ?? null, status ?? null, kind ?? null, sorted, q ?? null]))
    .digest('base64url')
    .slice(0, 16);
}

function badCursor(message: string): BadRequestException {
  return new BadRequestException({ message: `query.cursor: ${message}`, issues: [{ field: 'query.cursor', rule: 'invalid_cursor', message }] });
}
