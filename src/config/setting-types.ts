import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/** Shapes of settings, shared by the core's schema and the job kinds' own settings. */

/** An integer within [min, max], `fallback` when unset. */
export const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** A comma-separated list; empty means none. */
export const list = (item: z.ZodString) =>
  z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));

export function isCidr(value: string): boolean {
  try {
    ipaddr.parseCIDR(value);
    return true;
  } catch {
    return false;
  }
}
