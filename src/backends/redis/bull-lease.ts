/**
 * BullMQ's lock and stall settings, derived from CLUSTER_LEASE_MS (the lease).
 *
 * A worker holds a lock on each task it runs for `lockDuration` and renews it every half of
 * that; a stalled check (one per `stalledInterval` for the whole cluster) first marks the
 * active tasks, and at the next check moves back to waiting those still marked whose lock has
 * gone. After a kill -9 the lock lasts at most one lease more (it was renewed at most half a
 * lease before), and the check that sees it gone comes at most one interval after that: the
 * task is waiting again within 1.5 leases (7.5 s with the default 5 s), then taken at once by
 * a worker blocked on the queue. BullMQ's defaults (30 s lock, 30 s interval) take about a minute.
 *
 * The price of a short lease: an instance whose event loop is blocked for more than half a
 * lease (a long GC pause, a CPU-bound callback on the main thread) misses a renewal, and its
 * task is run a second time elsewhere while the first run goes on. That is the at-least-once
 * contract anyway (the store records every task's results once), but it costs the work twice;
 * raise the lease where pauses that long happen. Each stalled check is one small Lua script
 * per queue, so checking twice a lease costs Redis next to nothing.
 *
 * `maxStalledCount` is how many times one task may be lost with its instance before BullMQ
 * fails it: more than one, so that a task survives a rolling crash or the loss of every
 * instance followed by a restart; not unbounded, so that a task which itself kills its
 * instance (a poison task) cannot take down the whole cluster one instance after another.
 */
export interface LeaseSettings {
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
}

export const MAX_STALLS_PER_TASK = 5;

export function leaseSettings(leaseMs: number): LeaseSettings {
  return {
    lockDuration: leaseMs,
    stalledInterval: Math.max(250, Math.round(leaseMs / 2)),
    maxStalledCount: MAX_STALLS_PER_TASK,
  };
}
