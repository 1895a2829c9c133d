import { type HostCaps, type HostFeedback, type HostGrant, type HostRequest, PACING } from '../../crawl/host-budget';

/**
 * One host's shared state and the settle rule of the HostBudget port, as plain data and a pure
 * function: the memory budget runs it, and the Redis budget's Lua script (redis-host-budget.lua.ts)
 * is the same rule line for line, so that one contract suite holds both to it.
 */
export interface HostHolder {
  held: number;
  want: number;
  /** Its place in the line of holders wanting slots and holding none (0: it holds some, or wants none). */
  since: number;
  /** When its slots lapse unless it settles again. */
  lapse: number;
}

export interface HostState {
  /** Adapted concurrency, 1..maxConcurrency. */
  limit: number;
  /** Adapted pause between starts, ms. */
  delay: number;
  /** No start before this (the pause after the last start, or a Retry-After). */
  nextAt: number;
  /** The host's usual latency, ms (0: not known yet). */
  base: number;
  /** Good answers since the last change. */
  streak: number;
  /** When a 429/503 last slowed the host. */
  backoffAt: number;
  /** The last place given in the line of waiting holders (a count, not a clock: the same millisecond keeps order). */
  line: number;
  holders: Record<string, HostHolder>;
}

export const newHostState = (caps: HostCaps): HostState => ({ limit: caps.maxConcurrency, delay: 0, nextAt: 0, base: 0, streak: 0, backoffAt: 0, line: 0, holders: {} });

/** Applies a holder's feedback to the host; says whether it slowed the host down. */
function adapt(state: HostState, feedback: HostFeedback | undefined, caps: HostCaps, now: number): HostGrant['backoff'] {
  if (!feedback) return undefined;
  if (feedback.throttled > 0) {
    state.streak = 0;
    if (feedback.retryAfterMs > 0) state.nextAt = Math.max(state.nextAt, now + Math.min(feedback.retryAfterMs, caps.maxBackoffMs));
    if (now - state.backoffAt < PACING.burstMs) return undefined; // the same burst: slowed for already
    state.backoffAt = now;
    state.limit = Math.max(1, Math.floor(state.limit / 2));
    state.delay = Math.min(caps.maxBackoffMs, Math.max(2 * state.delay, PACING.backoffStepMs));
    return 'throttled';
  }
  if (feedback.ok === 0) return undefined;
  const latency = feedback.latencyMs;
  const slow = state.base > 0 && latency > 2 * state.base && latency - state.base > PACING.slowMarginMs;
  // A lasting slowdown slowly becomes the host's usual latency, so the host recovers from it.
  state.base = state.base === 0 || latency < state.base ? latency : state.base + (latency - state.base) * PACING.baseDrift;
  // Once per burst, as for 429s: under load the crawler's own queueing shows as latency too.
  if (slow) {
    state.streak = 0;
    if (now - state.backoffAt < PACING.burstMs) return undefined;
    state.backoffAt = now;
    state.limit = Math.max(1, state.limit - 1);
    return 'slow';
  }
  state.streak += feedback.ok;
  if (state.streak >= PACING.recoverAfter) {
    state.streak = 0;
    state.limit = Math.min(caps.maxConcurrency, state.limit + 1);
    state.delay = state.delay <= PACING.backoffStepMs ? 0 : Math.floor(state.delay / 2);
  }
  return undefined;
}

/** Settles one holder's slots on one host (see HostBudget); `state` is updated in place. */
export function settleHost(state: HostState, name: string, request: HostRequest, caps: HostCaps, now: number, leaseMs: number): HostGrant {
  for (const [other, holder] of Object.entries(state.holders)) if (holder.lapse < now) delete state.holders[other];
  const backoff = adapt(state, request.feedback, caps, now);
  const cap = Math.max(1, Math.min(caps.maxConcurrency, state.limit));
  const me = (state.holders[name] ??= { held: 0, want: 0, since: 0, lapse: 0 });
  me.want = request.want;
  if (me.held === 0 && me.want > 0 && me.since === 0) me.since = ++state.line;
  let contenders = 0;
  let othersHeld = 0;
  let contended = false;
  let oldestIdle = true;
  for (const [other, holder] of Object.entries(state.holders)) {
    if (holder.want > 0) contenders++;
    if (other === name) continue;
    othersHeld += holder.held;
    if (holder.held < holder.want) contended = true;
    if (holder.held === 0 && holder.want > 0 && holder.since < me.since) oldestIdle = false;
  }
  let allowed = me.want;
  if (contended) {
    let share = Math.floor(cap / contenders);
    // More holders than slots: a freed slot goes to whoever has waited longest with none.
    if (share === 0) share = me.held === 0 && oldestIdle ? 1 : 0;
    allowed = Math.min(allowed, share);
  }
  // Idle slots over the share, or over the cap (lowered by back-off), go back; busy ones stay until they end.
  const room = cap - othersHeld;
  const held = Math.max(request.busy, Math.min(allowed, room));
  me.since = held === 0 && me.want > 0 ? me.since || ++state.line : 0;
  me.held = held;
  me.lapse = now + leaseMs;
  if (held === 0 && me.want === 0) delete state.holders[name];
  const delay = Math.max(caps.minDelayMs, state.delay);
  const paced = delay > 0 || state.nextAt > now;
  let startInMs = -1;
  if (request.start && held > request.busy) {
    const at = Math.max(now, state.nextAt);
    state.nextAt = at + delay;
    startInMs = at - now;
  }
  return { held, paced, startInMs, contended, ...(backoff ? { backoff } : {}), limit: cap, delayMs: delay };
}
