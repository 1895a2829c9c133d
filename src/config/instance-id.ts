import { hostname } from 'node:os';

/** INSTANCE_ID, or host name and process id (unique on one host, readable on the panel). */
export function instanceId(configured: string | undefined): string {
  return configured ?? `${hostname()}-${process.pid}`;
}
