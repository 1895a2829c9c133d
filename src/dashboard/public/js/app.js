// The dashboard: job list, job view (grid, throughput, a crawl's live pages, results), pool panel,
// submit forms (Fibonacci, crawl), connection status. Plain ES modules, no framework; all DOM writes are batched per frame.

import { api, apiKey, ApiError, downloadResults, whenUnauthorized } from './api.js';
import { Feed } from './feed.js';
import { CODES, TaskGrid } from './grid.js';
import { RateChart } from './chart.js';
import { renderResults } from './results.js';
import { LivePages } from './pages.js';
import { averageRate, fmt, formatBytes, formatDuration, formatRate, unitOf } from './format.js';
import { isFiltered, listPath, matches, parseLabels, readFilter } from './filters.js';
import { inputsFromResults, inputsOf, renderInputs, renderLabels } from './job-info.js';
import { showLimits } from './limits.js';
import { showPool } from './pool.js';

const $ = (id) => document.getElementById(id);
const FINAL = new Set(['completed', 'failed', 'cancelled']);
const LIST_LIMIT = 50;
/** Characters of a result value the results table asks for (the first and last 20 digits show). */
const PREVIEW_CHARS = 64;

/** id -> { view, at: when durationMs was read, gen: feed connection that last vouched for it, row } */
const jobs = new Map();
let jobsTotal = 0;
/** The list's filter, how many entries it keeps (grows with "Show more"), and where its next page starts. */
let filter = {};
let listLimit = LIST_LIMIT;
let listNext = null;
/** What this tab submitted, by job id: shown as the job's inputs when the API does not show them. */
const submitted = new Map();
/** Counts connections: list entries the current connection has not confirmed are rebuilt. */
let gen = 0;
/** The open job: { id, view, at, synced, offset, lastT, lastDone, cancelling } */
let current = null;
let needKey = false;
const grid = new TaskGrid($('task-grid'));
const chart = new RateChart($('throughput'), $('throughput-caption'));
const pages = new LivePages($('crawl-pages'), $('crawl-live-note'));
/** How many of a crawl's newest results fill the live list of a job opened mid-way or late. */
const SEED_PAGES = 20;

const feed = new Feed({ key: apiKey.get, onMessage, onOpen, onState: setConnection });

// ---------------------------------------------------------------- rendering, once per frame

const dirtyRows = new Set();
let listChanged = false;
let jobChanged = false;
let frame = 0;

function schedule() {
  if (!frame) frame = requestAnimationFrame(render);
}

function render() {
  frame = 0;
  if (listChanged) renderList();
  for (const rec of dirtyRows) renderRow(rec);
  dirtyRows.clear();
  if (jobChanged) renderJob();
  if (current && $('crawl-live').hidden === false) pages.render(grid.counts[CODES.completed] + grid.counts[CODES.failed]);
  listChanged = jobChanged = false;
}

function touch(rec) {
  dirtyRows.add(rec);
  if (current?.id === rec.view.id) jobChanged = true;
  schedule();
}

function setBar(bar, pct, text, view) {
  bar.setAttribute('aria-valuenow', String(pct));
  if (text) bar.setAttribute('aria-valuetext', text);
  const fill = bar.firstElementChild;
  fill.style.width = `${pct}%`;
  if (!view) return;
  // Completed, failed and cancelled tasks in their grid colours, in that order.
  const { completed: c, failed: f, cancelled: x } = view;
  const all = c + f + x || 1;
  const a = ((c / all) * 100).toFixed(2),
    b = (((c + f) / all) * 100).toFixed(2);
  const background = f || x ? `linear-gradient(90deg, var(--c) 0 ${a}%, var(--f) ${a}% ${b}%, var(--x) ${b}% 100%)` : '';
  if (fill.dataset.bg !== background) {
    fill.dataset.bg = background;
    fill.style.background = background;
  }
}

/** A job with no tasks yet (a crawl before its first page) is at 0%, until it is over. */
function percent(done, total, status) {
  return total > 0 ? Math.floor((done * 100) / total) : FINAL.has(status) ? 100 : 0;
}

function duration(view, at) {
  return view.durationMs == null ? '–' : formatDuration(liveMs(view, at));
}

function liveMs(view, at) {
  return view.durationMs == null ? 0 : view.durationMs + (FINAL.has(view.status) ? 0 : performance.now() - at);
}

/** Writes text only when it changed: a same-text write still costs the page a layout. */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function badge(el, status) {
  el.textContent = status;
  el.dataset.status = status;
}

// ---------------------------------------------------------------- job list

function upsert(view, fromFeed) {
  const now = performance.now();
  let rec = jobs.get(view.id);
  if (!rec) {
    // A filtered list takes only the jobs the filter would find (the open job is kept apart).
    if (!matches(view, filter)) return { view, at: now, gen: 0 };
    rec = { view, at: now, gen: 0 };
    jobs.set(view.id, rec);
    listChanged = true;
  } else {
    // A finished job stays finished, whatever a late message says; and a REST answer (the 202 of
    // a submission, a list read) may be older than what the feed already told.
    if (FINAL.has(rec.view.status) && !FINAL.has(view.status)) return rec;
    if (!fromFeed && !FINAL.has(view.status) && (rank(view) < rank(rec.view) || (rank(view) === rank(rec.view) && finishedOf(view) < finishedOf(rec.view)))) return rec;
    rec.view = { ...rec.view, ...view };
    rec.at = now;
  }
  if (fromFeed) rec.gen = gen;
  touch(rec);
  return rec;
}

const rank = (view) => (FINAL.has(view.status) ? 2 : view.status === 'running' ? 1 : 0);
const finishedOf = (view) => view.completed + view.failed + view.cancelled;

function makeRow(rec) {
  const tr = document.createElement('tr');
  tr.dataset.jobId = rec.view.id;
  const cells = Array.from({ length: 6 }, () => tr.appendChild(document.createElement('td')));
  const open = Object.assign(document.createElement('button'), { type: 'button', className: 'open' });
  open.dataset.open = rec.view.id;
  const sub = Object.assign(document.createElement('span'), { className: 'sub' });
  cells[0].append(open, sub);
  const status = Object.assign(document.createElement('span'), { className: 'badge' });
  cells[1].append(status);
  const bar = Object.assign(document.createElement('div'), { className: 'bar' });
  bar.setAttribute('role', 'progressbar');
  bar.setAttribute('aria-valuemin', '0');
  bar.setAttribute('aria-valuemax', '100');
  bar.setAttribute('aria-label', `Progress of job ${rec.view.id.slice(0, 8)}`);
  bar.append(document.createElement('span'));
  cells[2].append(bar);
  rec.row = { tr, open, sub, status, bar, counts: cells[3], duration: cells[4], created: cells[5] };
  return rec.row;
}

function renderRow(rec) {
  if (!rec.row) return;
  const { view } = rec;
  const { open, sub, status, bar, counts, duration: dur, created, tr } = rec.row;
  const short = `${view.kind} ${view.id.slice(0, 8)}`;
  open.textContent = view.name ?? short;
  open.title = view.name ? `${view.name} (${view.id})` : view.id;
  open.setAttribute('aria-label', `Open ${view.name ? `${view.name}, ` : ''}${short}`);
  const labels = Object.entries(view.labels ?? {}).map(([k, v]) => `${k}:${v}`);
  const subText = [view.name ? short : '', ...labels].filter(Boolean).join(' · ');
  if (sub.textContent !== subText) Object.assign(sub, { textContent: subText, title: subText });
  badge(status, view.status);
  const finished = view.completed + view.failed + view.cancelled;
  setBar(bar, percent(finished, view.total, view.status), `${fmt(finished)} of ${fmt(view.total)} tasks finished`, view);
  counts.textContent = `${fmt(view.completed)} / ${fmt(view.failed)} / ${fmt(view.cancelled)} of ${fmt(view.total)}`;
  dur.textContent = duration(view, rec.at);
  created.textContent = new Date(view.createdAt).toLocaleTimeString();
  tr.setAttribute('aria-current', String(current?.id === view.id));
}

function renderList() {
  const sorted = [...jobs.values()].sort((a, b) => (a.view.createdAt < b.view.createdAt ? 1 : a.view.createdAt > b.view.createdAt ? -1 : 0));
  for (const rec of sorted.slice(listLimit)) jobs.delete(rec.view.id);
  const shown = sorted.slice(0, listLimit);
  $('jobs-list').replaceChildren(...shown.map((rec) => (rec.row ?? makeRow(rec)).tr));
  for (const rec of shown) dirtyRows.add(rec);
  $('jobs-empty').hidden = shown.length > 0;
  $('jobs-empty').textContent = isFiltered(filter) ? 'No job matches.' : 'No jobs yet: submit one.';
  $('jobs-total').textContent = jobsTotal > shown.length ? `(newest ${shown.length} of ${fmt(jobsTotal)})` : '';
  $('jobs-more').hidden = !listNext;
}

/** The list from REST, merged with what the feed of this connection already said (it is newer). */
async function loadJobs() {
  listLimit = LIST_LIMIT;
  const body = await listJobs();
  const listed = new Set();
  const stale = [];
  for (const view of body.items) {
    listed.add(view.id);
    const rec = jobs.get(view.id);
    if (rec && gen > 0 && rec.gen === gen && !FINAL.has(view.status)) continue;
    upsert(view, false);
    if (!FINAL.has(view.status) && (!rec || rec.gen !== gen)) stale.push(view.id);
  }
  for (const [id, rec] of jobs) {
    if (!listed.has(id) && rec.gen !== gen) jobs.delete(id);
  }
  jobsTotal = body.total ?? 0;
  listChanged = true;
  schedule();
  // The list may have been read just before the feed subscribed: check what it says is running.
  if (stale.length) setTimeout(() => stale.forEach(recheck), 1500);
}

/**
 * One page of the list, filtered. The API pages by cursor (`nextCursor`); one that still pages by
 * offset (`total`) gets an offset; a filter it does not know yet (a 400 naming it) is said so.
 */
async function listJobs(from) {
  const seq = ++listSeq;
  const note = $('jobs-filter-note');
  let body;
  try {
    body = await api(listPath(filter, LIST_LIMIT, from));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 400) || !isFiltered(filter)) throw err;
    const fields = (err.body?.issues ?? []).map((issue) => issue.field).join(', ');
    Object.assign(note, { hidden: false, textContent: `This service cannot filter jobs that way${fields ? ` (${fields})` : ''}: ${err.message}` });
    body = { items: [] };
  }
  if (seq !== listSeq) throw new Error('superseded');
  const loaded = (from?.offset ?? 0) + body.items.length;
  listNext = body.nextCursor ? { cursor: body.nextCursor } : body.nextCursor === undefined && body.total > loaded ? { offset: loaded } : null;
  return body;
}
let listSeq = 0;

$('jobs-more').addEventListener('click', async () => {
  if (!listNext) return;
  const button = $('jobs-more');
  button.disabled = true;
  try {
    const body = await listJobs(listNext);
    listLimit += body.items.length;
    for (const view of body.items) upsert(view, false);
    listChanged = true;
    schedule();
  } catch {
    /* offline or superseded: the button stays for another try */
  } finally {
    button.disabled = false;
  }
});

/** A changed filter reads the list again (typing waits for a pause). */
let filterTimer = 0;
function applyFilter() {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => {
    // A field losing focus fires "change" too (clicking "Show more" after typing): same filter, same list.
    const next = readFilter($('jobs-filter'));
    if (JSON.stringify(next) === JSON.stringify(filter)) return;
    filter = next;
    $('jobs-filter-note').hidden = true;
    $('jobs-filter-note').textContent = '';
    jobs.clear();
    listChanged = true;
    schedule();
    loadJobs().catch(() => {});
  }, 250);
}
$('jobs-filter').addEventListener('input', applyFilter);
$('jobs-filter').addEventListener('change', applyFilter);
$('jobs-filter').addEventListener('reset', () => setTimeout(applyFilter));
$('jobs-filter').addEventListener('submit', (e) => {
  e.preventDefault();
  applyFilter();
});

async function recheck(id) {
  const rec = jobs.get(id);
  if (!rec || rec.gen === gen || FINAL.has(rec.view.status)) return;
  try {
    upsert(await api(`/jobs/${id}`), false);
  } catch {
    /* evicted or offline: the next rebuild settles it */
  }
}

$('jobs-list').addEventListener('click', (e) => {
  const tr = e.target.closest('tr[data-job-id]');
  if (tr) openJob(tr.dataset.jobId);
});

// ---------------------------------------------------------------- job view

function openJob(id) {
  if (location.hash !== `#job/${id}`) location.hash = `job/${id}`;
  else route();
}

/** `#job/<id>` opens a job; `focus` moves the keyboard there (not on a plain page load). */
function route(focus = true) {
  const match = /^#job\/([\w-]{1,100})$/.exec(location.hash);
  if (match) showJob(match[1], focus === true);
  else closeJob();
}
addEventListener('hashchange', () => route());

function closeJob() {
  if (!current) return;
  feed.send('unsubscribe', { jobId: current.id });
  const rec = jobs.get(current.id);
  current = null;
  $('job-view').hidden = true;
  if (rec) touch(rec);
}

async function showJob(id, focus) {
  if (current?.id === id) return;
  if (current) {
    feed.send('unsubscribe', { jobId: current.id });
    const before = jobs.get(current.id);
    if (before) touch(before);
  }
  const rec = jobs.get(id);
  current = { id, view: rec?.view, at: rec?.at ?? performance.now(), synced: false, offset: 0, lastT: 0, lastDone: 0 };
  clearTimeout(refreshTimer);
  refreshTimer = 0;
  const view = $('job-view');
  view.hidden = false;
  clearJobView(id, rec?.view);
  if (rec) touch(rec);
  jobChanged = true;
  schedule();
  feed.send('subscribe', { jobId: id });
  if (focus) {
    $('job-title').focus({ preventScroll: true });
    view.scrollIntoView({ block: 'nearest' });
  }
  if (!rec) {
    try {
      const fetched = await api(`/jobs/${id}`);
      if (current?.id !== id) return;
      if (!current.view) {
        current.view = fetched;
        current.at = performance.now();
        if (!current.synced) grid.reset(fetched.total);
      }
      jobChanged = true;
      schedule();
    } catch (err) {
      if (current?.id !== id) return;
      if (err instanceof ApiError && err.status === 404) badge($('job-status'), 'not found');
      jobMessage(err instanceof ApiError && err.status === 404 ? `No job ${id}: it does not exist, or it has been removed.` : err.message);
      return;
    }
  }
  loadResults();
}

/**
 * Nothing of the job shown before stays: a job that cannot be read (an unknown id) shows no
 * status, bar or figures but its own.
 */
function clearJobView(id, view) {
  $('job-title').textContent = `Job ${id.slice(0, 8)}`;
  $('job-title').title = id;
  badge($('job-status'), '…');
  $('job-status').dataset.status = '';
  setBar($('job-progress'), 0, 'unknown', { completed: 0, failed: 0, cancelled: 0 });
  $('job-progress').removeAttribute('aria-valuetext');
  const counts = $('job-counts');
  counts.textContent = '–';
  for (const key of Object.keys(counts.dataset)) delete counts.dataset[key];
  for (const field of ['job-duration', 'job-rate', 'job-avg-rate', 'job-eta']) $(field).textContent = '–';
  $('job-eta-item').hidden = true;
  $('cancel-job').disabled = true;
  $('cancel-job').textContent = 'Cancel job';
  jobMessage('');
  renderSummary(undefined);
  renderName(undefined);
  renderInputs($('job-inputs'), []);
  $('crawl-live').hidden = true;
  $('results').tHead.replaceChildren();
  $('results').tBodies[0].replaceChildren();
  $('results-note').textContent = '';
  $('results-info').textContent = '–';
  chart.reset(unitOf(view?.kind));
  pages.reset();
  grid.reset(view?.total ?? 0);
}

/** Name and labels change only with the job shown: drawn once per job, not every frame. */
function renderName(v) {
  const key = v ? JSON.stringify([v.id, v.name, v.labels]) : '';
  const name = $('job-name');
  if (name.dataset.key === key) return;
  name.dataset.key = key;
  name.hidden = !v?.name;
  name.textContent = v?.name ?? '';
  name.title = v?.name ?? '';
  renderLabels($('job-labels'), v?.labels);
}

function jobMessage(text) {
  const el = $('job-reason');
  setText(el, text);
  el.hidden = !text;
}

/** A full snapshot of the open job: the grid is rebuilt from its task map. */
function syncCurrent(view, tasks, progress) {
  current.view = { ...current.view, ...view };
  current.at = performance.now();
  if (!current.synced || typeof tasks === 'string') grid.reset(view.total, tasks ?? '', progress ?? {});
  current.synced = true;
  current.lastT = performance.now();
  current.lastDone = processed();
  current.hist = undefined;
  syncCounts();
  if (current.view.kind === 'crawl') seedPages(current);
  jobChanged = true;
  schedule();
}

/**
 * Pages that finished before this view listened (the job was opened late, or the feed dropped)
 * come from the newest results: the live list then starts with the latest of them.
 */
async function seedPages(c) {
  const missed = processed() - pages.seen.size;
  if (missed <= 0) return;
  let last = grid.total - 1;
  while (last >= 0 && grid.states[last] !== CODES.completed && grid.states[last] !== CODES.failed) last--;
  if (last < 0) return;
  const offset = Math.max(0, last + 1 - SEED_PAGES);
  const top = pages.seen.size > 0;
  try {
    const page = await api(`/jobs/${c.id}/results?offset=${offset}&limit=${last + 1 - offset}`);
    if (current !== c) return;
    pages.addResults(page.items, top);
    jobChanged = true;
    schedule();
  } catch {
    /* the results table says what is wrong */
  }
}

/** The open job's counts come from its grid, which is exact and immune to repeats. */
function syncCounts() {
  const rec = jobs.get(current.id);
  const [, , completed, failed, cancelled] = grid.counts;
  Object.assign(current.view, { completed, failed, cancelled });
  if (rec && !FINAL.has(rec.view.status)) {
    Object.assign(rec.view, { completed, failed, cancelled });
    touch(rec);
  }
}

/** Tasks the workers got through: completed or failed (cancelled ones never ran). */
function processed() {
  return grid.counts[CODES.completed] + grid.counts[CODES.failed];
}

/** Tasks/s over the last ~2 s (a sliding window keeps a few slow tasks from looking spiky). */
function sample(final = false) {
  if (!current?.synced || !current.lastT) return;
  const now = performance.now();
  if (now - current.lastT < 200 && !final) return;
  const done = processed();
  const hist = (current.hist ??= [[current.lastT, current.lastDone]]);
  hist.push([now, done]);
  while (hist.length > 2 && now - hist[1][0] >= 2000) hist.shift();
  const [t0, d0] = hist[0];
  if (now > t0) chart.add(now, ((done - d0) * 1000) / (now - t0));
  current.lastT = final ? 0 : now;
  current.lastDone = done;
}

function renderJob() {
  const c = current;
  if (!c?.view) return;
  const v = c.view;
  const total = v.total;
  const running = c.synced ? grid.counts[CODES.running] : 0;
  const finished = v.completed + v.failed + v.cancelled;
  const pct = percent(finished, total, v.status);
  setText($('job-title'), `${v.kind} job ${v.id.slice(0, 8)}`);
  $('results-format-field').hidden = v.kind !== 'fibonacci';
  $('crawl-live').hidden = v.kind !== 'crawl';
  $('job-title').title = v.id;
  badge($('job-status'), v.status);
  const unit = unitOf(v.kind);
  setBar($('job-progress'), pct, `${fmt(finished)} of ${fmt(total)} ${unit} finished`, v);
  const counts = $('job-counts');
  setText(
    counts,
    `${fmt(finished)} of ${fmt(total)} finished (${pct}%): ${fmt(v.completed)} completed · ${fmt(v.failed)} failed · ${fmt(v.cancelled)} cancelled${running ? ` · ${fmt(running)} running` : ''}`,
  );
  Object.assign(counts.dataset, { total, completed: v.completed, failed: v.failed, cancelled: v.cancelled, finished });
  const final = FINAL.has(v.status);
  const cancel = $('cancel-job');
  cancel.disabled = final || !!c.cancelling;
  setText(cancel, c.cancelling && !final ? 'Cancelling…' : 'Cancel job');
  if (final && v.reason) jobMessage(`Reason: ${v.reason}`);
  setText($('job-duration'), duration(v, c.at));
  const average = averageRate(v.completed + v.failed, liveMs(v, c.at));
  setText($('job-avg-rate'), average === null ? '–' : `${formatRate(average)} ${unit}/s`);
  renderSummary(v.summary);
  renderName(v);
  renderJobInputs(c);
  // What this tab measures (fresh every 500 ms); before its first sample, the service's rate and
  // ETA from the last view it sent (they come with job events and snapshots, not with progress).
  const last = chart.samples.at(-1);
  const now = last?.[1] ?? (typeof v.rate === 'number' ? v.rate : undefined);
  setText($('job-rate'), final ? '–' : now !== undefined ? `${formatRate(now)} ${unit}/s` : '…');
  setText($('throughput-title'), `Throughput (${unit}/s)`);
  const left = total - finished;
  const eta = final ? null : last?.[1] > 0 ? (left * 1000) / last[1] : typeof v.etaMs === 'number' ? Math.max(0, v.etaMs - (performance.now() - c.at)) : null;
  $('job-eta-item').hidden = eta === null;
  setText($('job-eta'), eta === null ? '–' : formatDuration(eta));
}

/** The job's inputs: as the API shows them, as this tab submitted them, or as its first results tell. */
function renderJobInputs(c) {
  const v = c.view;
  const input = v.input ?? v.inputs ?? v.request ?? v.settings ?? v.options ?? submitted.get(v.id);
  const pairs = input ? inputsOf(v.kind, input, v.total) : (c.inputsFromResults?.pairs ?? []);
  const key = JSON.stringify(pairs);
  if (c.inputsKey === key) return;
  c.inputsKey = key;
  renderInputs($('job-inputs'), pairs);
}

/** Names for known summary keys; any other key is shown as its words (`fooBar` -> `foo bar`). */
const SUMMARY_LABELS = { pagesOk: 'Pages ok', pagesFailed: 'Pages failed', linksDiscovered: 'Links discovered', bytesFetched: 'Bytes fetched', queued: 'Pages queued', discovered: 'Pages discovered' };

/** Kind-specific totals (a crawl's pagesOk, bytesFetched, ...), whatever keys they have. */
function renderSummary(summary) {
  const list = $('job-summary');
  list.hidden = !summary;
  if (!summary) {
    delete list.dataset.key;
    return list.replaceChildren();
  }
  const key = JSON.stringify(summary);
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  list.replaceChildren(
    ...Object.entries(summary).map(([name, value]) => {
      const item = document.createElement('div');
      const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
      const label = SUMMARY_LABELS[name] ?? words.charAt(0).toUpperCase() + words.slice(1);
      const text = typeof value === 'number' && /bytes/i.test(name) ? formatBytes(value) : typeof value === 'number' ? fmt(value) : String(value);
      const dd = Object.assign(document.createElement('dd'), { textContent: text });
      Object.assign(dd.dataset, { key: name, value: String(value) });
      if (typeof value === 'number' && /bytes/i.test(name)) dd.title = `${fmt(value)} bytes`;
      if (name === 'pagesFailed' && value > 0) dd.className = 'bad';
      item.append(Object.assign(document.createElement('dt'), { textContent: label }), dd);
      return item;
    }),
  );
}

grid.onDraw = () => {
  const canvas = $('task-grid');
  const [queued, running, completed, failed, cancelled] = grid.counts;
  canvas.dataset.filled = String(grid.finished);
  canvas.dataset.total = String(grid.total);
  canvas.setAttribute(
    'aria-label',
    `Task grid: ${fmt(grid.finished)} of ${fmt(grid.total)} tasks finished (${fmt(completed)} completed, ${fmt(failed)} failed, ${fmt(cancelled)} cancelled), ${fmt(running)} running, ${fmt(queued)} queued`,
  );
};

$('cancel-job').addEventListener('click', async () => {
  const c = current;
  if (!c) return;
  c.cancelling = true;
  jobChanged = true;
  schedule();
  try {
    const view = await api(`/jobs/${c.id}`, { method: 'DELETE' });
    upsert(view, false);
    if (current === c) updateCurrent(view);
  } catch (err) {
    if (current === c) jobMessage(`Cancel failed: ${err.message}`);
  } finally {
    c.cancelling = false;
    jobChanged = true;
    schedule();
  }
});

$('close-job').addEventListener('click', () => {
  const id = current?.id;
  history.pushState(null, '', location.pathname + location.search);
  closeJob();
  document.querySelector(`[data-open="${id}"]`)?.focus();
});

function updateCurrent(view) {
  const wasFinal = current.view && FINAL.has(current.view.status);
  if (wasFinal && !FINAL.has(view.status)) return;
  current.view = { ...current.view, ...view };
  current.at = performance.now();
  if (current.synced) syncCounts();
  if (FINAL.has(view.status) && !wasFinal) {
    sample(true);
    clearTimeout(refreshTimer);
    refreshTimer = 0;
    loadResults();
  }
  jobChanged = true;
  schedule();
}

// ---------------------------------------------------------------- results

let resultsSeq = 0;
let refreshTimer = 0;

/** Tasks on the page shown finished: reload it soon (at most every 1.5 s), unless it has focus. */
function refreshResultsSoon() {
  if (refreshTimer || $('results').contains(document.activeElement)) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = 0;
    loadResults();
  }, 1500);
}

async function loadResults() {
  const c = current;
  if (!c) return;
  const limit = Number($('results-limit').value);
  const format = $('results-format').value;
  const seq = ++resultsSeq;
  $('results-info').textContent = 'Loading…';
  try {
    // Previews only: a page of huge values would be tens of MB; Copy fetches one value whole.
    const page = await api(`/jobs/${c.id}/results?offset=${c.offset}&limit=${limit}&format=${format}&maxChars=${PREVIEW_CHARS}`);
    if (seq !== resultsSeq || current !== c) return;
    const loadFull = async (item) => (await api(`/jobs/${c.id}/results?offset=${item.index}&limit=1&format=${format}`)).items[0].value;
    renderResults($('results'), c.view?.kind, page.items, $('results-note'), loadFull);
    if (page.offset === 0 && !c.inputsFromResults) {
      c.inputsFromResults = inputsFromResults(c.view?.kind, page.items, page.total);
      jobChanged = true;
      schedule();
    }
    const to = Math.min(page.total, page.offset + page.items.length);
    $('results-info').textContent = page.total ? `${fmt(page.offset + 1)}–${fmt(to)} of ${fmt(page.total)}` : 'no results';
    $('results').dataset.offset = String(page.offset);
    $('results-prev').disabled = page.offset === 0;
    // A page may stop early at the server's byte bound: the next one starts where it says.
    c.nextOffset = page.nextOffset ?? page.offset + page.items.length;
    $('results-next').disabled = page.nextOffset === null || c.nextOffset >= page.total;
    $('results-note').textContent = FINAL.has(page.status) ? '' : 'The job is still running: this page shows what is done so far (Refresh for more).';
  } catch (err) {
    if (seq !== resultsSeq) return;
    $('results-info').textContent = '–';
    $('results-note').textContent = `Could not load results: ${err.message}`;
  }
}

$('results-prev').addEventListener('click', () => {
  if (!current) return;
  current.offset = Math.max(0, current.offset - Number($('results-limit').value));
  loadResults();
});
$('results-next').addEventListener('click', () => {
  if (!current) return;
  current.offset = current.nextOffset ?? current.offset + Number($('results-limit').value);
  loadResults();
});
$('results-refresh').addEventListener('click', loadResults);
for (const as of ['ndjson', 'csv']) {
  $(`results-download-${as}`).addEventListener('click', async () => {
    if (!current) return;
    const button = $(`results-download-${as}`);
    const idle = button.textContent;
    button.disabled = true;
    button.textContent = 'Downloading…';
    try {
      await downloadResults(current.id, as, $('results-format').value);
    } catch (err) {
      $('results-info').textContent = `Download failed: ${err.message}`;
    } finally {
      button.disabled = false;
      button.textContent = idle;
    }
  });
}
$('results-format').addEventListener('change', loadResults);
$('results-limit').addEventListener('change', () => {
  if (!current) return;
  current.offset = 0;
  loadResults();
});

// ---------------------------------------------------------------- feed

/**
 * Task maps of finished jobs this connection received in a snapshot. The server sends a finished
 * job's snapshot once per connection; a later subscribe gets only its final event, so reopening
 * the job takes the map from here.
 */
const finishedMaps = new Map();

function onOpen() {
  gen++;
  finishedMaps.clear();
  feed.send('subscribe', { jobId: '*' });
  if (current) {
    current.synced = false;
    feed.send('subscribe', { jobId: current.id });
  }
  loadJobs().catch(() => {});
}

function onMessage({ event, data }) {
  switch (event) {
    case 'job.snapshot': {
      const { tasks, progress, ...view } = data;
      if (FINAL.has(view.status)) finishedMaps.set(view.id, { tasks, progress });
      upsert(view, true);
      if (current?.id === view.id) syncCurrent(view, tasks, progress);
      break;
    }
    case 'job.created':
    case 'job.started':
    case 'job.completed':
    case 'job.failed':
    case 'job.cancelled':
      if (event === 'job.created' && !jobs.has(data.id)) jobsTotal++;
      upsert(data, true);
      if (current?.id === data.id) {
        const map = current.synced ? undefined : finishedMaps.get(data.id);
        if (map) syncCurrent(data, map.tasks, map.progress);
        updateCurrent(data);
      }
      break;
    case 'task.progress':
      onProgress(data);
      break;
    case 'error':
      // An unknown job is said by its REST read (a 404), which also marks the view.
      if (data?.jobId && data.jobId === current?.id && current.view) jobMessage(data.message);
      break;
  }
}

function onProgress({ jobId, updates, summary }) {
  const rec = jobs.get(jobId);
  // Jobs that discover work (crawls) announce new tasks as queued updates past the end.
  let total = 0;
  for (const u of updates) if (u.index >= total) total = u.index + 1;
  if (rec) {
    if (total > rec.view.total) rec.view.total = total;
    if (summary) rec.view.summary = summary;
  }
  if (current?.id === jobId && current.view) {
    if (total > current.view.total) current.view.total = total;
    if (summary) current.view.summary = summary;
  }
  if (current?.id === jobId && current.synced) {
    grid.grow(total);
    const from = current.offset,
      to = from + Number($('results-limit').value);
    let shown = false;
    for (const u of updates) {
      grid.set(u.index, CODES[u.state] ?? 0, u.progress);
      if (u.index >= from && u.index < to && u.state !== 'running') shown = true;
    }
    if (shown) refreshResultsSoon();
    pages.add(updates);
    syncCounts();
    jobChanged = true;
    schedule();
    return;
  }
  if (!rec || FINAL.has(rec.view.status)) return;
  const view = rec.view;
  for (const u of updates) if (u.state === 'completed' || u.state === 'failed' || u.state === 'cancelled') view[u.state]++;
  touch(rec);
}

let lastProbe = 0;

function setConnection(state, detail) {
  const el = $('connection-status');
  el.dataset.state = state;
  const text = { connecting: 'Connecting…', connected: 'Live: connected', reconnecting: 'Connection lost: reconnecting…', unauthorized: 'API key needed' }[state];
  el.textContent = detail ? `${text} (${detail})` : text;
  // A feed that keeps failing may have had its key revoked: REST tells, with a 401.
  if (state === 'reconnecting' && feed.attempt >= 2 && Date.now() - lastProbe > 5000) {
    lastProbe = Date.now();
    api('/jobs?limit=1').catch(() => {});
  }
}

// ---------------------------------------------------------------- API key

whenUnauthorized(() => askKey());

function askKey() {
  const hadKey = !!apiKey.get();
  apiKey.clear();
  feed.stop();
  setConnection('unauthorized');
  if (needKey) return;
  needKey = true;
  $('api-key-hint').textContent = hadKey
    ? 'The service rejected the API key. Enter a valid key; it is kept for this tab only.'
    : 'This service needs an API key. It is kept for this tab only (sessionStorage).';
  $('api-key-form').hidden = false;
  $('api-key').focus();
}

$('api-key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const key = $('api-key').value.trim();
  if (!key) return;
  apiKey.set(key);
  $('api-key').value = '';
  $('api-key-form').hidden = true;
  needKey = false;
  boot();
});

// ---------------------------------------------------------------- submit forms

/** `where(field)` names an issue's field for people: `numbers.3` -> `n #4 ("x")`. */
function showErrors(list, err, fields, where = (field) => field) {
  const issues = err instanceof ApiError && err.body?.issues?.length ? err.body.issues : null;
  const items = [];
  if (issues) {
    for (const issue of issues) {
      items.push(`${where(issue.field)}: ${issue.message}`);
      for (const [prefix, input] of fields) if (issue.field === prefix || issue.field.startsWith(`${prefix}.`)) input.setAttribute('aria-invalid', 'true');
    }
  } else {
    items.push(err instanceof ApiError ? err.message : `Could not reach the service: ${err.message}`);
    if (err instanceof ApiError && err.status === 400) for (const [, input] of fields) input.setAttribute('aria-invalid', 'true');
  }
  list.replaceChildren(...items.slice(0, 20).map((text) => Object.assign(document.createElement('li'), { textContent: text })));
  if (items.length > 20) list.append(Object.assign(document.createElement('li'), { textContent: `…and ${items.length - 20} more` }));
}

/** Names `<list>.<i>` fields by the token typed: `urls.0` -> `URL #1 ("ftp://x")`. */
const tokenNamer = (list, noun, tokens) => (field) => {
  const m = new RegExp(`^${list}\\.(\\d+)$`).exec(field);
  return m && tokens[Number(m[1])] !== undefined ? `${noun} #${Number(m[1]) + 1} ("${tokens[Number(m[1])]}")` : field;
};

/** Adds the optional name and labels to a submission; false (and the error shown) when the labels do not parse. */
function addMeta(body, nameInput, labelsInput, errors, fields) {
  fields.push(['name', nameInput], ['labels', labelsInput]);
  const name = nameInput.value.trim();
  if (name) body.name = name;
  const { labels, error } = parseLabels(labelsInput.value);
  if (error) {
    errors.replaceChildren(Object.assign(document.createElement('li'), { textContent: `labels: ${error} (write key:value, comma separated)` }));
    labelsInput.setAttribute('aria-invalid', 'true');
    return false;
  }
  if (labels) body.labels = labels;
  return true;
}

async function submit(path, body, { button, errors, fields, where }) {
  button.disabled = true;
  errors.replaceChildren();
  for (const [, input] of fields) input.removeAttribute('aria-invalid');
  try {
    const job = await api(path, { method: 'POST', body });
    if (!jobs.has(job.id)) jobsTotal++; // unless the feed's job.created came first
    submitted.set(job.id, body);
    upsert(job, false);
    openJob(job.id);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) showErrors(errors, err, fields, where);
  } finally {
    button.disabled = false;
  }
}

$('fib-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const tokens = $('fib-numbers')
    .value.split(/[\s,;]+/)
    .filter(Boolean);
  // Numbers go as numbers; anything else goes as typed, for the server to name what is wrong.
  const numbers = tokens.map((t) => (/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t) ? Number(t) : t));
  const body = { numbers };
  const fields = [['numbers', $('fib-numbers')]];
  if (!addMeta(body, $('fib-name'), $('fib-labels'), $('fib-errors'), fields)) return;
  submit('/fibonacci', body, { button: $('fib-submit'), errors: $('fib-errors'), fields, where: tokenNamer('numbers', 'n', tokens) });
});

$('range-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const range = { from: readNumber($('range-from')), to: readNumber($('range-to')) };
  const fields = [
    ['range.from', $('range-from')],
    ['range.to', $('range-to')],
    ['range', $('range-from')],
  ];
  const body = { range };
  if (!addMeta(body, $('fib-name'), $('fib-labels'), $('range-errors'), fields)) return;
  submit('/fibonacci', body, { button: $('range-submit'), errors: $('range-errors'), fields });
});

/** An empty field is left out (the service's default); one the browser cannot parse goes as null, for the service to name. */
function readNumber(input) {
  if (input.value.trim() === '') return input.validity.badInput ? null : undefined;
  return Number(input.value);
}

const CRAWL_NUMBERS = [
  ['maxDepth', 'crawl-max-depth'],
  ['maxPages', 'crawl-max-pages'],
  ['concurrency', 'crawl-concurrency'],
  ['perHostConcurrency', 'crawl-per-host'],
  ['delayMs', 'crawl-delay'],
];

$('crawl-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const urls = $('crawl-urls').value.split(/\s+/).filter(Boolean);
  const body = { urls };
  const fields = [
    ['urls', $('crawl-urls')],
    ['scope', $('crawl-scope')],
    ['respectRobotsTxt', $('crawl-robots')],
  ];
  for (const [name, id] of CRAWL_NUMBERS) {
    const value = readNumber($(id));
    if (value !== undefined) body[name] = value;
    fields.push([name, $(id)]);
  }
  body.scope = $('crawl-scope').value;
  body.respectRobotsTxt = $('crawl-robots').checked;
  if (!addMeta(body, $('crawl-name'), $('crawl-labels'), $('crawl-errors'), fields)) return;
  submit('/crawl', body, { button: $('crawl-submit'), errors: $('crawl-errors'), fields, where: tokenNamer('urls', 'URL', urls) });
});

for (const input of document.querySelectorAll('#fib-card input, #fib-card textarea, #crawl-form textarea, #crawl-form input, #crawl-form select')) {
  input.addEventListener('input', (e) => e.target.removeAttribute('aria-invalid'));
}

// ---------------------------------------------------------------- pool panel

/** GET /pool needs the key when keys are on: no polling while the page waits for one (each 401 counts as a failed login). */
async function pollPool() {
  if (!needKey) {
    try {
      const pool = await api('/pool');
      showPool(pool, pool.status === 'up' ? 'up' : (pool.reason ?? 'down'), { badge, setBar });
    } catch (err) {
      showPool(undefined, err instanceof ApiError ? (err.status === 401 ? 'locked' : 'down') : 'unreachable', { badge, setBar });
    }
  }
  setTimeout(pollPool, document.hidden ? 5000 : 1000);
}

// ---------------------------------------------------------------- clock and start

setInterval(() => {
  if (current?.view && !FINAL.has(current.view.status)) {
    sample();
    jobChanged = true;
  }
  for (const rec of jobs.values()) if (!FINAL.has(rec.view.status) && rec.view.startedAt) dirtyRows.add(rec);
  schedule();
}, 500);

async function boot() {
  setConnection('connecting');
  try {
    await loadJobs();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
  }
  if (needKey) return;
  route(false);
  feed.start();
}

// A phone starts with the forms folded, so that the job list is in view.
if (matchMedia('(max-width: 820px)').matches) for (const card of document.querySelectorAll('details.formcard')) card.open = false;
showLimits();

// After the first REST call: if it asked for a key, the pool panel waits for it too.
boot().finally(pollPool);
