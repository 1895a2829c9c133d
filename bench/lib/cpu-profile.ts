/**
 * Reads the window-<n>.cpuprofile files cpu-prof-preload.cjs writes (the service's main thread,
 * one per profiled load) and summarises self time, by package and by function.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Top packages and `top` functions by self time, for each window-<n>.cpuprofile in `dir`. */
export function summariseProfiles(dir: string, names: readonly string[], top: number): string {
  const out: string[] = [];
  const files = readdirSync(dir)
    .filter((f) => /^window-\d+\.cpuprofile$/.test(f))
    .sort((a, b) => windowOf(a) - windowOf(b));
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
    const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
    const selfUs = new Map<number, number>();
    profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    const fns = new Map<string, number>();
    const pkgs = new Map<string, number>();
    let total = 0;
    let idle = 0;
    for (const [id, us] of selfUs) {
      const frame = byNode.get(id)!.callFrame;
      total += us;
      if (frame.functionName === '(idle)') {
        idle += us;
        continue;
      }
      const where = shortUrl(frame.url);
      const key = `${frame.functionName || '(anonymous)'}  ${where ? `${where}:${frame.lineNumber + 1}` : ''}`.trimEnd();
      fns.set(key, (fns.get(key) ?? 0) + us);
      const pkg = packageOf(frame.url, frame.functionName);
      pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
    }
    const busy = total - idle;
    out.push(`${names[windowOf(file) - 1] ?? file}: ${(total / 1e6).toFixed(1)} s sampled, main thread busy ${(busy / 1e6).toFixed(1)} s (${((busy / total) * 100).toFixed(0)}%)`);
    const rows = (map: Map<string, number>, n: number) =>
      [...map]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([key, us]) => `  ${(us / 1e3).toFixed(0).padStart(6)} ms ${((us / busy) * 100).toFixed(1).padStart(5)}%  ${key}`);
    out.push(' self time by package (% of busy):', ...rows(pkgs, 10), ` top ${top} functions by self time (% of busy):`, ...rows(fns, top), '');
  }
  return out.join('\n');
}

function windowOf(file: string): number {
  return Number(/(\d+)\.cpuprofile$/.exec(file)?.[1]);
}

/** A frame's file, relative to node_modules or dist/ when it is in one. */
export function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/** The npm package (scoped ones whole), "service dist/", "node:internal", or a V8 pseudo-frame like (garbage collector). */
function packageOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native / V8 builtins)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.includes('/dist/')) return 'service dist/';
  if (url.startsWith('node:')) return 'node: core';
  return url;
}
