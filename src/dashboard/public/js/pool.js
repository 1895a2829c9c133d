// The pool panel. One measure of busy everywhere (the bar, "Busy now", each instance's row): tasks
// running right now per thread. An I/O thread runs many page fetches at once, so it can pass 100%:
// the bar stops there, the figure says it. Piscina's own utilisation (finished tasks over the pool's
// life) disagreed with it ("3 running on 4 threads" next to "0%"): it is only a tooltip now.

import { fmt } from './format.js';

const $ = (id) => document.getElementById(id);
const busy = (running, threads) => (threads > 0 && running !== undefined ? Math.round((running * 100) / threads) : undefined);

export function showPool(pool, state, { badge, setBar }) {
  badge($('pool-state'), state);
  const { running, threads } = pool ?? {};
  const pct = busy(running, threads);
  const words = pool ? (running !== undefined ? `${fmt(running)} running on ${fmt(threads)} thread${threads === 1 ? '' : 's'}` : `${fmt(threads)} threads`) : '–';
  setBar($('pool-util'), Math.min(100, pct ?? 0), pool ? words : 'unknown');
  $('pool-running').textContent = words;
  const util = $('pool-utilization');
  util.textContent = pct === undefined ? '–' : `${pct}%`;
  util.title = pool?.utilization !== undefined ? `Piscina utilisation over the pool's life: ${Math.round(pool.utilization * 100)}%` : '';
  $('pool-threads').textContent = pool ? `${pool.threads} / ${pool.maxThreads}` : '–';
  $('pool-queued').textContent = pool ? fmt(pool.queued) : '–';
  $('pool-queued-tasks').textContent = pool?.queuedTasks !== undefined ? fmt(pool.queuedTasks) : '–';
  $('pool-completed').textContent = pool?.completed !== undefined ? fmt(pool.completed) : '–';
  showInstances(pool?.instances ?? []);
}

/**
 * One row per live instance (one in embedded mode, every replica in cluster mode), the one that
 * answered first and marked: its figures above are that row's, the others' are at most ~1 s old.
 */
function showInstances(instances) {
  $('pool-instance-count').textContent = instances.length > 0 ? `(${instances.length})` : '';
  const rows = instances.map((instance) => {
    const { threads, maxThreads, running } = instance.stats ?? {};
    const row = document.createElement('tr');
    row.dataset.instance = instance.id;
    if (instance.self) row.setAttribute('aria-current', 'true');
    const pct = busy(running, threads);
    const cells = [instance.self ? `${instance.id} (this one)` : instance.id, `${fmt(threads)} / ${fmt(maxThreads)}`, fmt(running), pct === undefined ? '–' : `${pct}%`];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    row.title = `started ${instance.startedAt}`;
    return row;
  });
  $('pool-instances-list').replaceChildren(...rows);
}
