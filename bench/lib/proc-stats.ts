/**
 * Memory and per-thread CPU of another process, from /proc (Linux only; elsewhere the figures
 * are NaN). CPU of a whole process (all threads) is processCpuMs() in contention.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc counts CPU time in these; 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM), NaN if unreadable. */
export function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/**
 * Samples VmRSS every `intervalMs` until stop(); stop() also reads VmHWM (the kernel's own peak
 * since the process started), so a spike between two samples is not missed.
 */
export class RssSampler {
  private peakKb = 0;
  private samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 50,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Peak sampled RSS and the kernel's high-water mark, in kB. Call while the process lives. */
  stop(): { peakKb: number; hwmKb: number; samples: number } {
    clearInterval(this.timer);
    this.sample();
    return { peakKb: this.peakKb, hwmKb: statusKb(this.pid, 'VmHWM'), samples: this.samples };
  }

  private sample(): void {
    const kb = statusKb(this.pid, 'VmRSS');
    if (Number.isFinite(kb)) {
      this.samples++;
      if (kb > this.peakKb) this.peakKb = kb;
    }
  }
}

export interface ThreadCpu {
  /** The main thread (tid = pid). */
  mainMs: number;
  /** Every other live thread: worker threads, V8's GC/compiler helpers, libuv's pool. */
  othersMs: number;
}

/**
 * CPU time of the main thread of `pid` and of all its other live threads, in ms. Node 20 names
 * every thread "node", so worker threads cannot be told from V8's helpers by name. Threads that
 * already exited are missing (the process total from processCpuMs() still has them).
 */
export function threadCpuMs(pid: number): ThreadCpu | undefined {
  const dir = `/proc/${pid}/task`;
  if (!existsSync(dir)) return undefined;
  let mainMs = 0;
  let othersMs = 0;
  for (const tid of readdirSync(dir)) {
    try {
      const stat = readFileSync(`${dir}/${tid}/stat`, 'utf8');
      const rest = stat
        .slice(stat.lastIndexOf(')') + 2)
        .split(' ')
        .map(Number);
      const ms = (rest[11] + rest[12]) * (1000 / CLOCK_TICKS);
      if (Number(tid) === pid) mainMs = ms;
      else othersMs += ms;
    } catch {
      // The thread exited while we read.
    }
  }
  return { mainMs, othersMs };
}

/** `after` - `before`. */
export function threadCpuDelta(before: ThreadCpu | undefined, after: ThreadCpu | undefined): ThreadCpu | undefined {
  if (!before || !after) return undefined;
  return { mainMs: after.mainMs - before.mainMs, othersMs: after.othersMs - before.othersMs };
}

/**
 * CPU time of `pid` and every live descendant (all threads of each), plus what their reaped
 * children used, in ms. Read from outside the same way for every crawler, so a crawler that
 * spreads its work over child processes is charged for all of it. NaN where /proc is missing.
 */
export function treeCpuMs(pid: number): number {
  if (!existsSync(`/proc/${pid}/stat`)) return NaN;
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may contain spaces.
      const rest = stat
        .slice(stat.lastIndexOf(')') + 2)
        .split(' ')
        .map(Number);
      const ppid = rest[1];
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
      ticks.set(Number(entry), rest[11] + rest[12] + rest[13] + rest[14]);
    } catch {
      // The process exited while we read.
    }
  }
  let total = 0;
  const queue = [pid];
  for (let i = 0; i < queue.length; i++) {
    total += ticks.get(queue[i]) ?? 0;
    queue.push(...(children.get(queue[i]) ?? []));
  }
  return total * (1000 / CLOCK_TICKS);
}
