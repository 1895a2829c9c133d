/** How RedisJobStore turns plain job data into script arguments and script replies back. */
import { wireEvent } from './redis-event-bus';
import type { Announce, Applied, JobHeader, NewJob, NewTask, StoredUpdate } from '../../jobs/job-data';
import { STATE_CODES } from '../../jobs/job.model';

/** A new job's header as hash field/value pairs (the counters and `total` are the script's). */
export function headerFields(job: NewJob): string[] {
  const fields = [
    'id',
    job.id,
    'kind',
    job.kind,
    'callerId',
    job.callerId,
    'createdAt',
    String(job.createdAt),
    'rTasks',
    String(job.reservation.tasks),
    'rBytes',
    String(job.reservation.resultBytes),
    'rCounters',
    JSON.stringify(job.reservation.counters ?? {}),
    'status',
    'queued',
    'completed',
    '0',
    'failed',
    '0',
    'cancelled',
    '0',
    'resultBytes',
    '0',
    'seq',
    '1',
  ];
  if (job.owner !== undefined) fields.push('owner', job.owner);
  if (job.params !== undefined) fields.push('params', JSON.stringify(job.params));
  // `search`: the name as GET /jobs?q= compares it (Lua's lower() knows ASCII only).
  if (job.name !== undefined) fields.push('name', job.name, 'search', job.name.toLowerCase());
  if (job.labels !== undefined) fields.push('labels', JSON.stringify(job.labels));
  if (job.webhook !== undefined) fields.push('webhook', JSON.stringify(job.webhook));
  return fields;
}

export function parseHeader(hash: Map<string, string>): JobHeader {
  const number = (name: string) => Number(hash.get(name) ?? 0);
  const header: JobHeader = {
    id: hash.get('id') as string,
    kind: hash.get('kind') as JobHeader['kind'],
    callerId: hash.get('callerId') as string,
    reservation: reservationOf(hash),
    status: hash.get('status') as JobHeader['status'],
    createdAt: number('createdAt'),
    total: number('total'),
    completed: number('completed'),
    failed: number('failed'),
    cancelled: number('cancelled'),
    resultBytes: number('resultBytes'),
    seq: number('seq'),
  };
  if (hash.has('owner')) header.owner = hash.get('owner');
  if (hash.has('params')) header.params = JSON.parse(hash.get('params') as string);
  if (hash.has('name')) header.name = hash.get('name');
  if (hash.has('labels')) header.labels = JSON.parse(hash.get('labels') as string);
  if (hash.has('webhook')) header.webhook = JSON.parse(hash.get('webhook') as string);
  if (hash.has('startedAt')) header.startedAt = number('startedAt');
  if (hash.has('finishedAt')) header.finishedAt = number('finishedAt');
  if (hash.has('reason')) header.reason = hash.get('reason');
  if (hash.has('cancelRequested')) header.cancelRequested = hash.get('cancelRequested');
  if (hash.has('summary')) header.summary = JSON.parse(hash.get('summary') as string);
  if (hash.has('rs')) header.rateSamples = (hash.get('rs') as string).split(/[,;]/).filter(Boolean).map(Number);
  return header;
}

/**
 * The apply script's arguments: the time of the write (the rate ring's clock, as the memory store's), every update's small fields packed in one string, then the
 * result and error JSON of the updates that have them, each its own argument (never decoded by Lua).
 */
export function applyArgs(id: string, updates: StoredUpdate[], announce?: Announce): string[] {
  let packed = '';
  const payloads: string[] = [];
  for (const update of updates) {
    const result = update.result === undefined ? undefined : JSON.stringify(update.result);
    const error = update.error === undefined ? undefined : JSON.stringify(update.error);
    const index = Number.isInteger(update.index) ? update.index : -1;
    const progress = typeof update.progress === 'number' && Number.isFinite(update.progress) ? update.progress : '';
    const bytes = Number.isFinite(update.bytes) ? update.bytes : 0;
    packed += `${index},${STATE_CODES[update.state] ?? ''},${progress},${bytes},${result === undefined ? 0 : 1},${error === undefined ? 0 : 1};`;
    if (result !== undefined) payloads.push(result);
    if (error !== undefined) payloads.push(error);
  }
  const now = String(Date.now());
  if (!announce) return [now, packed, '', '', ...payloads];
  return [now, packed, ...eventPieces(id, announce.owner), ...payloads, ...announce.updates];
}

/**
 * A task.progress event as RedisEventBus's wireEvent renders it, cut around the seq (known only in
 * the script) and the updates (those that took effect): the script appends the updates, `]`, the
 * summary if any, and `}}`.
 */
function eventPieces(id: string, owner: string | undefined): [string, string] {
  const probe = wireEvent({ event: 'task.progress', jobId: id, owner, seq: SEQ_MARK, data: { jobId: id, updates: UPDATES_MARK } });
  const [beforeSeq, afterSeq] = probe.split(String(SEQ_MARK));
  return [beforeSeq, afterSeq.slice(0, afterSeq.indexOf(JSON.stringify(UPDATES_MARK)) + 1)];
}

/** The appendTasks script's arguments (see its comment); `announce.updates` are the tasks' queued updates by position. */
export function appendArgs(id: string, tasks: NewTask[], maxTotal: number, announce?: Announce): string[] {
  const triples = tasks.flatMap((task) => [task.key === undefined ? '0' : '1', task.key ?? '', JSON.stringify(task.input) ?? 'null']);
  const pieces = announce ? eventPieces(id, announce.owner) : ['', ''];
  // Each update without its `{`: the script puts `{"index":N,` in front once N is known.
  const rests = announce ? announce.updates.map((update) => update.slice(1)) : [];
  return [String(maxTotal), ...pieces, String(tasks.length), ...triples, ...rests];
}

const SEQ_MARK = 987654321987;
const UPDATES_MARK = ['updates-go-here'];

/** The apply/settle reply: {seq, changed, status, total, completed, failed, cancelled, resultBytes, summary JSON or ''}. */
export function parseApplied(reply: unknown[]): Applied {
  const [seq, , status, total, completed, failed, cancelled, resultBytes, summary] = reply as [number, unknown, JobHeader['status'], number, number, number, number, number, string];
  const header: Applied['header'] = { status, total, completed, failed, cancelled, resultBytes };
  if (summary) header.summary = JSON.parse(summary);
  return { seq, changed: [], header };
}

function reservationOf(hash: Map<string, string>): JobHeader['reservation'] {
  const reservation: JobHeader['reservation'] = { tasks: Number(hash.get('rTasks') ?? 0), resultBytes: Number(hash.get('rBytes') ?? 0) };
  const counters = JSON.parse(hash.get('rCounters') ?? '{}') as Record<string, number>;
  if (Object.keys(counters).length > 0) reservation.counters = counters;
  return reservation;
}
