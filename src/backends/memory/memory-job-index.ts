import { type JobHeader, type JobPage, type JobQuery, LIST_SCAN_BUDGET } from '../../jobs/job-data';
import { SortedPositions } from './sorted-positions';

/** One scope's jobs (every job, or one owner's): all of them, and by status, kind and label. */
class Scope {
  readonly all = new SortedPositions();
  readonly byStatus = new Map<string, SortedPositions>();
  readonly byKind = new Map<string, SortedPositions>();
  readonly byLabel = new Map<string, SortedPositions>();
}

/**
 * The embedded store's listing index (the Redis store keeps the same sorted sets, see
 * redis-job.lua.ts): every job by creation position, in the scope of every job and in its
 * owner's, each also by status, kind and label. A listing walks the smallest list its filters
 * name, from the cursor on, so its cost is the page (or LIST_SCAN_BUDGET), never every job.
 */
export class JobIndex {
  private readonly scopes = new Map<string, Scope>();
  private readonly ids = new Map<number, string>();

  add(position: number, job: JobHeader): void {
    this.ids.set(position, job.id);
    for (const scope of this.scopesOf(job.owner, true)) {
      scope.all.add(position);
      listOf(scope.byStatus, job.status, true).add(position);
      listOf(scope.byKind, job.kind, true).add(position);
      for (const label of labelsOf(job)) listOf(scope.byLabel, label, true).add(position);
    }
  }

  /** The job went from status `from` to its header's. */
  restatus(position: number, job: JobHeader, from: string): void {
    for (const scope of this.scopesOf(job.owner, true)) {
      drop(scope.byStatus, from, position);
      listOf(scope.byStatus, job.status, true).add(position);
    }
  }

  delete(position: number, job: JobHeader): void {
    this.ids.delete(position);
    for (const scope of this.scopesOf(job.owner, false)) {
      scope.all.delete(position);
      drop(scope.byStatus, job.status, position);
      drop(scope.byKind, job.kind, position);
      for (const label of labelsOf(job)) drop(scope.byLabel, label, position);
    }
    // An owner with nothing left leaves no scope behind: keys come and go.
    if (job.owner !== undefined && this.scopes.get(ownerScope(job.owner))?.all.size === 0) this.scopes.delete(ownerScope(job.owner));
  }

  /** A page of jobs matching `query`; `read` gives a position's job (the store's own header). */
  page(query: JobQuery, read: (id: string) => JobHeader | undefined): JobPage & { items: JobHeader[] } {
    const scope = this.scopes.get(query.owner === undefined ? EVERY : ownerScope(query.owner));
    const named: (SortedPositions | undefined)[] = [];
    if (scope) {
      if (query.status !== undefined) named.push(scope.byStatus.get(query.status));
      if (query.kind !== undefined) named.push(scope.byKind.get(query.kind));
      for (const [key, value] of query.labels ?? []) named.push(scope.byLabel.get(labelKey(key, value)));
    }
    const counted = named.length <= 1 && query.q === undefined;
    if (!scope || named.includes(undefined)) return { items: [], next: null, total: counted ? 0 : null };
    const lists = named as SortedPositions[];
    const walked = lists.reduce((smallest, list) => (list.size < smallest.size ? list : smallest), lists[0] ?? scope.all);
    // One list answers exactly; otherwise each candidate's header is checked, within a budget.
    const checks = lists.length > 1 || query.q !== undefined;
    const items: JobHeader[] = [];
    let examined = 0;
    let last: number | undefined;
    for (const position of walked.descending(query.before)) {
      if (items.length >= query.limit || (checks && examined >= LIST_SCAN_BUDGET)) return { items, next: last ?? null, total: counted ? walked.size : null };
      examined++;
      last = position;
      const job = read(this.ids.get(position) as string);
      if (job && (!checks || matches(job, query))) items.push(job);
    }
    return { items, next: null, total: counted ? walked.size : null };
  }

  private scopesOf(owner: string | undefined, create: boolean): Scope[] {
    const keys = owner === undefined ? [EVERY] : [EVERY, ownerScope(owner)];
    const scopes: Scope[] = [];
    for (const key of keys) {
      let scope = this.scopes.get(key);
      if (!scope && create) this.scopes.set(key, (scope = new Scope()));
      if (scope) scopes.push(scope);
    }
    return scopes;
  }
}

/** The scope every job is in; an owner's is `o:` and the owner (never equal to this one). */
const EVERY = '*';

function ownerScope(owner: string): string {
  return `o:${owner}`;
}

/** A label as one string: keys hold no `=` (job-options.ts), so no two pairs meet. */
function labelKey(key: string, value: string): string {
  return `${key}=${value}`;
}

function labelsOf(job: JobHeader): string[] {
  return Object.entries(job.labels ?? {}).map(([key, value]) => labelKey(key, value));
}

function listOf(lists: Map<string, SortedPositions>, name: string, create: true): SortedPositions {
  let list = lists.get(name);
  if (!list && create) lists.set(name, (list = new SortedPositions()));
  return list as SortedPositions;
}

function drop(lists: Map<string, SortedPositions>, name: string, position: number): void {
  const list = lists.get(name);
  if (!list) return;
  list.delete(position);
  if (list.size === 0) lists.delete(name);
}

/** Whether a job satisfies every filter of the query (the owner is the scope's). */
export function matches(job: JobHeader, query: JobQuery): boolean {
  if (query.status !== undefined && job.status !== query.status) return false;
  if (query.kind !== undefined && job.kind !== query.kind) return false;
  for (const [key, value] of query.labels ?? []) if (job.labels?.[key] !== value) return false;
  const { q } = query;
  return q === undefined || job.id.startsWith(q) || job.name?.toLowerCase().includes(q) === true;
}
