import type { AdmissionFigures, Applied, JobHeader, JobPage, JobQuery, JobSnapshotData, NewJob, NewTask, RetentionPolicy, StoredUpdate, TaskRecord } from '../../jobs/job-data';
import { isFinal, STATE_CODES } from '../../jobs/job.model';
import { JobStore } from '../../jobs/job.store';
import { addSample } from '../../jobs/job-rate';
import { copyHeader, isFinishedCode, NOTHING_APPLIED, newJobHeader, STATE_OF_CODE } from '../../jobs/job-store.shared';
import { AdmissionLedger } from './memory-admission';
import { JobIndex } from './memory-job-index';
import { OwnerIndex } from './memory-owner-index';
import { FinishedJobs } from './memory-retention';

/** A job as this store keeps it: flat arrays so 100k-task jobs stay cheap to update. */
interface Entry {
  header: JobHeader;
  /** Creation order, the listing's sort key and cursor. */
  position: number;
  inputs: unknown[];
  /** One STATE_CODES letter per task. */
  codes: string[];
  results: unknown[];
  errors: Map<number, string>;
  progress: Map<number, number>;
  seen: Set<string>;
  notes: Map<string, string>;
  lease?: { holder: string; until: number };
}

/**
 * The embedded mode's store: every job in this process, with bounded retention of finished jobs
 * (maxAgeMs on a periodic sweep, maxCount and maxBytes whenever a job finishes). Hands out
 * copies only, so it behaves like the Redis store for callers.
 */
export class MemoryJobStore extends JobStore {
  /** Every job, in creation order (Map keeps insertion order). */
  private readonly jobs = new Map<string, Entry>();
  /** Every job and each owner's, by status, kind and label (GET /jobs); per owner, the unfinished ones (`*` feeds). */
  private readonly listing = new JobIndex();
  private readonly ownedUnfinished = new OwnerIndex();
  private created = 0;
  private readonly finished: FinishedJobs;
  private readonly ledger = new AdmissionLedger();
  private readonly sweeper: NodeJS.Timeout;

  constructor(retention: RetentionPolicy) {
    super();
    this.finished = new FinishedJobs(retention);
    this.sweeper = setInterval(() => this.evict(), Math.max(1, Math.min(retention.maxAgeMs, 60_000)));
    this.sweeper.unref();
  }

  async admission(callerId: string): Promise<AdmissionFigures> {
    return this.ledger.figures(callerId);
  }

  /** Checked and created in one synchronous step: no other job can come in between, so no retries. */
  override async admit(job: NewJob, inputs: unknown[], check: (figures: AdmissionFigures) => void): Promise<void> {
    const figures = this.ledger.figures(job.callerId);
    check(figures);
    if (!this.createNow(job, inputs, figures.version)) throw new Error(`job ${job.id} exists already`);
  }

  async create(job: NewJob, inputs: unknown[], version: string): Promise<boolean> {
    return this.createNow(job, inputs, version);
  }

  private createNow(job: NewJob, inputs: unknown[], version: string): boolean {
    if (!this.ledger.isCurrent(version) || this.jobs.has(job.id)) return false;
    const header = newJobHeader(job, inputs.length);
    const position = ++this.created;
    this.jobs.set(job.id, {
      header,
      position,
      inputs: inputs.slice(),
      codes: new Array<string>(inputs.length).fill(STATE_CODES.queued),
      // Packed (filled) arrays: writes at any index stay fast, even for 100k tasks.
      results: new Array(inputs.length).fill(undefined),
      errors: new Map(),
      progress: new Map(),
      seen: new Set(),
      notes: new Map(),
    });
    this.ledger.hold(job.callerId, job.reservation);
    this.listing.add(position, header);
    this.ownedUnfinished.add(job.owner, job.id);
    return true;
  }

  async get(id: string): Promise<JobHeader | undefined> {
    const entry = this.jobs.get(id);
    return entry && copyHeader(entry.header);
  }

  async list(query: JobQuery): Promise<JobPage> {
    // Expired jobs leave first, so neither the page nor the count holds one.
    this.evict();
    const page = this.listing.page(query, (id) => this.jobs.get(id)?.header);
    return { ...page, items: page.items.map(copyHeader) };
  }

  async snapshot(id: string): Promise<JobSnapshotData | undefined> {
    const entry = this.jobs.get(id);
    if (!entry) return undefined;
    return { header: copyHeader(entry.header), tasks: entry.codes.join(''), progress: Object.fromEntries(entry.progress) };
  }

  async tasks(id: string, offset: number, limit: number): Promise<TaskRecord[]> {
    const entry = this.jobs.get(id);
    if (!entry) return [];
    const records: TaskRecord[] = [];
    const end = Math.min(entry.header.total, offset + limit);
    for (let index = Math.max(0, offset); index < end; index++) records.push(recordOf(entry, index));
    return records;
  }

  async tasksAt(id: string, indexes: readonly number[]): Promise<TaskRecord[]> {
    const entry = this.jobs.get(id);
    if (!entry) return [];
    return indexes.filter((index) => Number.isInteger(index) && index >= 0 && index < entry.header.total).map((index) => recordOf(entry, index));
  }

  async inputs(id: string, offset: number, limit: number): Promise<unknown[]> {
    const entry = this.jobs.get(id);
    if (!entry) return [];
    return entry.inputs.slice(Math.max(0, offset), Math.min(entry.header.total, offset + limit));
  }

  async appendTasks(id: string, tasks: NewTask[], maxTotal: number): Promise<{ index: number; input: unknown }[]> {
    const entry = this.unfinishedEntry(id);
    if (!entry) return [];
    const appended: { index: number; input: unknown }[] = [];
    for (const task of tasks) {
      if (task.key !== undefined) {
        if (entry.seen.has(task.key)) continue;
        entry.seen.add(task.key);
      }
      if (entry.header.total >= maxTotal) continue;
      const index = entry.header.total++;
      entry.inputs.push(task.input);
      entry.codes.push(STATE_CODES.queued);
      entry.results.push(undefined);
      appended.push({ index, input: task.input });
    }
    if (appended.length > 0) entry.header.seq++;
    return appended;
  }

  async markSeen(id: string, keys: string[]): Promise<number> {
    const entry = this.jobs.get(id);
    if (!entry) return 0;
    if (!isFinalStatus(entry.header)) for (const key of keys) entry.seen.add(key);
    return entry.seen.size;
  }

  async start(id: string, now: number): Promise<JobHeader | undefined> {
    const entry = this.jobs.get(id);
    if (entry?.header.status !== 'queued') return undefined;
    entry.header.status = 'running';
    this.listing.restatus(entry.position, entry.header, 'queued');
    entry.header.startedAt = now;
    entry.header.seq++;
    return copyHeader(entry.header);
  }

  async apply(id: string, updates: StoredUpdate[]): Promise<Applied> {
    const entry = this.jobs.get(id);
    if (!entry) return NOTHING_APPLIED();
    const changed: Applied['changed'] = [];
    const { header } = entry;
    if (!isFinalStatus(header)) {
      const doneBefore = header.completed + header.failed;
      for (const update of updates) if (this.applyOne(entry, update)) changed.push(update);
      if (changed.length > 0) header.seq++;
      const done = header.completed + header.failed;
      if (done !== doneBefore) header.rateSamples = addSample(header.rateSamples, Date.now(), done);
    }
    return applied(entry, changed);
  }

  async settle(id: string): Promise<Applied> {
    const entry = this.jobs.get(id);
    if (!entry) return NOTHING_APPLIED();
    const changed: Applied['changed'] = [];
    if (!isFinalStatus(entry.header)) {
      for (let index = 0; index < entry.codes.length; index++) {
        if (isFinishedCode(entry.codes[index])) continue;
        this.applyOne(entry, { index, state: 'cancelled' });
        changed.push({ index, state: 'cancelled', input: entry.inputs[index] });
      }
      if (changed.length > 0) entry.header.seq++;
    }
    return applied(entry, changed);
  }

  async setSummary(id: string, summary: Record<string, number>): Promise<void> {
    const entry = this.unfinishedEntry(id);
    if (entry) entry.header.summary = { ...summary };
  }

  async saveNotes(id: string, notes: Record<string, string>): Promise<void> {
    const entry = this.unfinishedEntry(id);
    if (entry) for (const [key, value] of Object.entries(notes)) entry.notes.set(key, value);
  }

  async readNotes(id: string, prefix: string): Promise<Record<string, string>> {
    const found: Record<string, string> = {};
    for (const [key, value] of this.jobs.get(id)?.notes ?? []) if (key.startsWith(prefix)) found[key] = value;
    return found;
  }

  async requestCancel(id: string, reason: string): Promise<JobHeader | undefined> {
    const entry = this.jobs.get(id);
    if (!entry) return undefined;
    if (!isFinalStatus(entry.header) && entry.header.cancelRequested === undefined) entry.header.cancelRequested = reason;
    return copyHeader(entry.header);
  }

  async finish(id: string, status: 'completed' | 'failed' | 'cancelled', reason: string | undefined, now: number): Promise<JobHeader | undefined> {
    const entry = this.unfinishedEntry(id);
    if (!entry) return undefined;
    const { header } = entry;
    const from = header.status;
    header.status = status;
    this.listing.restatus(entry.position, header, from);
    if (reason !== undefined) header.reason = reason;
    header.finishedAt = now;
    header.startedAt ??= now;
    header.seq++;
    entry.lease = undefined;
    this.ownedUnfinished.delete(header.owner, id);
    this.ledger.release(header.callerId, header.reservation, header.completed + header.failed + header.cancelled);
    const result = copyHeader(header);
    this.finished.add(id, now, header.resultBytes);
    this.evict();
    return result;
  }

  async unfinished(owner?: string): Promise<string[]> {
    if (owner !== undefined) return [...this.ownedUnfinished.of(owner)];
    const ids: string[] = [];
    for (const [id, entry] of this.jobs) if (!isFinalStatus(entry.header)) ids.push(id);
    return ids;
  }

  async claim(id: string, holder: string, ttlMs: number): Promise<boolean> {
    const entry = this.unfinishedEntry(id);
    if (!entry) return false;
    const now = Date.now();
    if (entry.lease && entry.lease.until > now && entry.lease.holder !== holder) return false;
    entry.lease = { holder, until: now + ttlMs };
    return true;
  }

  async renew(id: string, holder: string, ttlMs: number): Promise<boolean> {
    const entry = this.unfinishedEntry(id);
    const now = Date.now();
    if (!entry?.lease || entry.lease.holder !== holder || entry.lease.until <= now) return false;
    entry.lease.until = now + ttlMs;
    return true;
  }

  async release(id: string, holder: string): Promise<void> {
    const entry = this.jobs.get(id);
    if (entry?.lease?.holder === holder) entry.lease = undefined;
  }

  async unclaimed(): Promise<string[]> {
    const now = Date.now();
    const ids: string[] = [];
    for (const [id, entry] of this.jobs) {
      if (!isFinalStatus(entry.header) && !(entry.lease && entry.lease.until > now)) ids.push(id);
    }
    return ids;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private unfinishedEntry(id: string): Entry | undefined {
    const entry = this.jobs.get(id);
    return entry && !isFinalStatus(entry.header) ? entry : undefined;
  }

  /** One task update under the contract's rules; true if it took effect. */
  private applyOne(entry: Entry, update: StoredUpdate): boolean {
    const { header, codes } = entry;
    const { index } = update;
    if (!Number.isInteger(index) || index < 0 || index >= header.total) return false;
    const current = codes[index];
    if (isFinishedCode(current)) return false;
    const next = STATE_CODES[update.state];
    if (next === undefined) return false;
    if (next === current) {
      if (next !== STATE_CODES.running || update.progress === undefined) return false;
      entry.progress.set(index, update.progress);
      return true;
    }
    codes[index] = next;
    if (isFinishedCode(next)) {
      header[update.state as 'completed' | 'failed' | 'cancelled']++;
      // A job's share of the queue depth is its reservation, finished tasks past it never counted.
      if (header.completed + header.failed + header.cancelled <= header.reservation.tasks) this.ledger.taskDone();
    }
    if (next === STATE_CODES.running && update.progress !== undefined) entry.progress.set(index, update.progress);
    else entry.progress.delete(index);
    if (update.result !== undefined) entry.results[index] = update.result;
    if (update.bytes) header.resultBytes += update.bytes;
    if (update.error !== undefined) entry.errors.set(index, update.error);
    return true;
  }

  /** Drops the oldest finished jobs until every retention bound holds again. */
  private evict(): void {
    for (const id of this.finished.evict(Date.now())) {
      const entry = this.jobs.get(id);
      if (entry) this.listing.delete(entry.position, entry.header);
      this.jobs.delete(id);
    }
  }
}

function isFinalStatus(header: JobHeader): boolean {
  return isFinal(header.status);
}

function applied(entry: Entry, changed: Applied['changed']): Applied {
  const { status, total, completed, failed, cancelled, resultBytes, summary } = entry.header;
  const header: Applied['header'] = { status, total, completed, failed, cancelled, resultBytes };
  if (summary) header.summary = { ...summary };
  return { seq: entry.header.seq, changed, header };
}

function recordOf(entry: Entry, index: number): TaskRecord {
  const record: TaskRecord = { index, input: entry.inputs[index], state: STATE_OF_CODE[entry.codes[index]] };
  if (entry.results[index] !== undefined) record.result = entry.results[index];
  const error = entry.errors.get(index);
  if (error !== undefined) record.error = error;
  return record;
}
