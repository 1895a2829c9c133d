/**
 * Native GMP baseline: bench/gmp-fib.c compiled at bench time against the system's libgmp.
 * Compiled here rather than shipped so that it always matches the machine's GMP and compiler.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { since } from './stats';

export interface NativeRun {
  /** fib + get_str, timed inside the C program. */
  ms: number;
  /** The whole process as seen from here: spawn, load libgmp, compute, print, exit. */
  processMs: number;
  digits: number;
  head: string;
  tail: string;
}

export class NativeGmp {
  private constructor(
    private readonly binary: string,
    private readonly dir: string,
  ) {}

  /** Compiles bench/gmp-fib.c, or says why that cannot be done on this machine. */
  static compile(source: string): NativeGmp | { unavailable: string } {
    const dir = mkdtempSync(join(tmpdir(), 'fib-bench-'));
    const binary = join(dir, 'gmp-fib');
    const cc = spawnSync('cc', ['-O2', source, '-lgmp', '-o', binary], { encoding: 'utf8' });
    if (cc.status === 0) return new NativeGmp(binary, dir);
    rmSync(dir, { recursive: true, force: true });
    if (cc.error) return { unavailable: `no C compiler (cc: ${cc.error.message}); install one with: apt-get install gcc` };
    if (!gmpHeaderPresent()) return { unavailable: 'libgmp-dev is not installed; install it with: apt-get install libgmp-dev' };
    return { unavailable: `cc failed to compile ${source}:\n${cc.stderr}` };
  }

  run(n: number): NativeRun {
    const start = performance.now();
    const out = execFileSync(this.binary, [String(n)], { encoding: 'utf8' });
    const processMs = since(start);
    const parsed = JSON.parse(out) as { n: number; digits: number; head: string; tail: string; ns: number };
    if (parsed.n !== n) throw new Error(`gmp-fib computed n=${parsed.n}, asked for ${n}`);
    return { ms: parsed.ns / 1e6, processMs, digits: parsed.digits, head: parsed.head, tail: parsed.tail };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** gmp.h sits in /usr/include on some systems and in the multiarch directory on Debian. */
function gmpHeaderPresent(): boolean {
  if (existsSync('/usr/include/gmp.h')) return true;
  try {
    return readdirSync('/usr/include').some((entry) => entry.endsWith('-linux-gnu') && existsSync(join('/usr/include', entry, 'gmp.h')));
  } catch {
    return false;
  }
}
