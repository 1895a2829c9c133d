/**
 * docs/benchmarks.md is written by the benchmarks themselves: each script replaces its own section,
 * between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`, and leaves the rest of the file
 * alone. Every table is stamped with where and how it was measured (commit, date, machine, runs),
 * so a figure is never read without them.
 *
 * BENCH_DOC=path writes to another file (a check of a script, say). A `--quick` run writes only
 * where BENCH_DOC points: its figures are not worth quoting, so docs/benchmarks.md is left alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { markdownTable, type Row } from './table';

const ROOT = join(__dirname, '..', '..');
export const BENCH_DOC = join(ROOT, 'docs', 'benchmarks.md');

/** The sections in the order the file lists them; a missing one is inserted in its place. */
export const SECTIONS = ['fib', 'engines', 'parse', 'content', 'crawl', 'load', 'cluster', 'export', 'webhooks', 'jobs'] as const;
export type SectionName = (typeof SECTIONS)[number];

export const DOC_HEADER = [
  '# Benchmarks',
  '',
  'Every section below is written by its benchmark script, between its `<!-- bench:NAME -->` markers: run the script to',
  'replace that section (and only that one); do not edit between the markers by hand. Run them on an otherwise idle',
  'machine, one at a time; each takes a few minutes:',
  '',
  '```sh',
  'npm run bench:fib        # the service end to end against the same work in one process, and native GMP',
  'npm run bench:engines    # V8 BigInt against gmp-wasm, per n',
  'npm run bench:parse      # link extraction, parser by parser',
  'npm run bench:content    # CPU per page of each crawl content option (markdown, text, html, select)',
  'npm run bench:crawl      # crawl jobs against Crawlee (installed by the bench into a temporary folder) and a one-thread parsing floor',
  'npm run bench:load       # small jobs per second under 100 connections (autocannon)',
  'npm run bench:cluster    # two instances on one Redis against one embedded instance (needs redis-server)',
  'npm run bench:export     # streamed NDJSON/CSV export of a 500,000-value job: throughput and RSS (needs redis-server)',
  'npm run bench:webhooks   # webhook delivery latency after a job ends, both modes (needs redis-server)',
  'npm run bench:jobs       # GET /jobs with filters at 100,000 retained jobs, both modes (needs redis-server)',
  '```',
  '',
  'bench:crawl also crawls a real documentation site served by nginx, which needs `apt-get install -y nginx-light postgresql-doc-15`',
  '(Debian); without them it crawls its generated site only and says why.',
  '',
  'Options go after `--`, e.g. `npm run bench:fib -- --runs 3`. `--quick` (every script has it) checks that a script',
  'works with small sizes and one run; its figures are not worth quoting, so it leaves this file alone unless',
  '`BENCH_DOC=<path>` names a file to write to. Each table says where it was measured: the commit (`+dirty`: the',
  'working tree had changes besides this file), the date, the machine, and how many runs each figure summarises.',
  '',
].join('\n');

export interface Stamp {
  /** Short hash, `+dirty` when the tree has changes other than the benchmarks file. */
  commit: string;
  /** ISO 8601, UTC. */
  date: string;
  /** CPU model, cores, memory, Node. */
  machine: string;
  /** Runs behind each figure. */
  runs: number;
}

/** Where and how the figures about to be written were measured; call it when the runs start or end. */
export function stamp(runs: number, now = new Date()): Stamp {
  const gib = totalmem() / 1024 ** 3;
  return {
    commit: commitState(),
    date: now.toISOString(),
    machine: `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${availableParallelism()} cores, ${gib.toFixed(1)} GiB, Node ${process.version}`,
    runs,
  };
}

function commitState(): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'unknown (no git)';
  // The benchmarks file itself is left out: the first bench of a series must not make the next ones "dirty".
  const written = [BENCH_DOC, docTarget(false)].filter((path): path is string => path !== undefined && !relative(ROOT, path).startsWith('..'));
  const changes = git('status', '--porcelain', '--', '.', ...written.map((path) => `:(exclude)${relative(ROOT, path)}`));
  return `${head.stdout.trim()}${changes.stdout.trim() ? '+dirty' : ''}`;
}

/** The line above every table. */
export function stampLine(s: Stamp): string {
  const runs = s.runs === 1 ? 'runs: 1 (each figure is one run)' : `runs: ${s.runs} (each figure min / median / max over them, or one number where they agree)`;
  return `_Commit ${s.commit} · ${s.date} · ${s.machine} · ${runs}_`;
}

export interface DocTable {
  header: Row;
  rows: readonly Row[];
  /** A short title above the table. */
  caption?: string;
}

export interface BenchSection {
  name: SectionName;
  title: string;
  /** How to run it, e.g. `npm run bench:fib`. */
  command: string;
  /** What is measured and how: paragraphs or `- ` list lines, above the tables. */
  about: readonly string[];
  tables: readonly DocTable[];
  /** Lines under the tables (what a column means, how busy the machine was). */
  notes?: readonly string[];
  stamp: Stamp;
}

export function renderSection(section: BenchSection): string {
  const tables = section.tables.flatMap((t) => [...(t.caption ? [`**${t.caption}**`, ''] : []), stampLine(section.stamp), '', markdownTable(t.header, t.rows), '']);
  return [`## ${section.title} (\`${section.command}\`)`, '', ...paragraphs(section.about), ...tables, ...paragraphs(section.notes ?? [])].join('\n').trimEnd();
}

/** Lines as given; a blank line between lines unless both are list items. */
function paragraphs(lines: readonly string[]): string[] {
  return lines.flatMap((line, i) => (i + 1 < lines.length && line.startsWith('- ') && lines[i + 1].startsWith('- ') ? [line] : [line, '']));
}

const start = (name: string) => `<!-- bench:${name}:start -->`;
const end = (name: string) => `<!-- bench:${name}:end -->`;

/**
 * `doc` with section `name` replaced by `body` (markers kept). A missing section goes before the
 * first later section of SECTIONS that is present, else at the end; a missing file is `DOC_HEADER`.
 */
export function replaceSection(doc: string | undefined, name: SectionName, body: string): string {
  const block = `${start(name)}\n${body.trimEnd()}\n${end(name)}`;
  const text = doc ?? DOC_HEADER;
  const from = text.indexOf(start(name));
  const to = text.indexOf(end(name));
  if (from >= 0 && to > from) return text.slice(0, from) + block + text.slice(to + end(name).length);
  if (from >= 0 || to >= 0) throw new Error(`the benchmarks file has one marker of section ${name} without the other: fix it by hand`);
  for (const later of SECTIONS.slice(SECTIONS.indexOf(name) + 1)) {
    const at = text.indexOf(start(later));
    if (at >= 0) return `${text.slice(0, at)}${block}\n\n${text.slice(at)}`;
  }
  return `${text.trimEnd()}\n\n${block}\n`;
}

/** The file to write: BENCH_DOC if set; else docs/benchmarks.md, except for a quick run (none). */
export function docTarget(quick: boolean): string | undefined {
  if (process.env.BENCH_DOC) return resolve(process.env.BENCH_DOC);
  return quick ? undefined : BENCH_DOC;
}

/** Replaces this bench's section of the benchmarks file (see docTarget) and says so. */
export function writeBenchSection(section: BenchSection, options: { quick?: boolean } = {}): void {
  const target = docTarget(options.quick ?? false);
  if (!target) {
    console.log(`\n--quick: ${relative(process.cwd(), BENCH_DOC)} left alone (set BENCH_DOC=<path> to write this section somewhere)`);
    return;
  }
  const before = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, replaceSection(before, section.name, renderSection(section)));
  console.log(`\nwrote section bench:${section.name} of ${relative(process.cwd(), target) || target}`);
}
