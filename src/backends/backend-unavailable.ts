/**
 * Thrown by a port (job store, counters, queue) whose backend cannot be reached right now. A
 * port-level error, not an HTTP one: the one exception filter answers it 503 with Retry-After,
 * and background work waits and tries again.
 */
export class BackendUnavailableError extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what} unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'BackendUnavailableError';
  }
}
