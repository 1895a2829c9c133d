/**
 * How much CPU other processes took while the bench ran. On a 2-core machine one busy neighbour
 * (a test run, a build) halves what the pool can do, and the figures would silently say the
 * service got slower; this makes that visible next to them. Linux only (/proc); elsewhere it
 * reports nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

interface Reading {
  /** Jiffies all CPUs spent busy, machine-wide. */
  busy: number;
  /** Jiffies elapsed, summed over all CPUs. */
  all: number;
  /** Jiffies this process, its reaped children and the given processes spent. */
  ours: number;
}

export class CpuNeighbours {
  private constructor(
    private readonly start: Reading,
    private readonly pids: number[],
  ) {}

  /** Starts counting; `pids` are processes of ours besides this one (the service). */
  static start(pids: number[]): CpuNeighbours | undefined {
    if (!existsSync('/proc/stat')) return undefined;
    return new CpuNeighbours(read(pids), pids);
  }

  /** Cores' worth of CPU that other processes used on average since start(). Call before the service exits. */
  otherCores(): number {
    const end = read(this.pids);
    const elapsed = end.all - this.start.all;
    if (elapsed <= 0) return 0;
    const others = end.busy - this.start.busy - (end.ours - this.start.ours);
    return Math.max(0, (others / elapsed) * availableParallelism());
  }
}

function read(pids: number[]): Reading {
  // cpu  user nice system idle iowait irq softirq steal ...
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + fields[4];
  const all = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: all - idle, all, ours: processTicks('self', true) + pids.reduce((sum, pid) => sum + processTicks(String(pid), false), 0) };
}

/** CPU time a process (all its threads) has used so far, in ms; undefined where /proc is missing. */
export function processCpuMs(pid: number): number | undefined {
  if (!existsSync(`/proc/${pid}/stat`)) return undefined;
  return processTicks(String(pid), false) * (1000 / CLOCK_TICKS);
}

/** USER_HZ: /proc counts CPU time in these; 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/** utime + stime (all threads), plus reaped children's when asked (the native GMP runs). */
function processTicks(pid: string, withChildren: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const rest = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    const [utime, stime, cutime, cstime] = rest.slice(11, 15);
    return utime + stime + (withChildren ? cutime + cstime : 0);
  } catch {
    return 0;
  }
}

/** How busy the machine was: figures taken beside other work are low and noisy. */
export function busyNote(otherCores: number | undefined): string {
  if (otherCores === undefined) return '';
  return ` Other processes used ${otherCores.toFixed(2)} cores meanwhile${otherCores > 0.1 ? ' (WARNING: the machine was busy; rerun on an idle machine)' : ''}.`;
}
