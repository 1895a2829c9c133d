// Numbers as people read them: counts with separators, binary byte sizes, rates, durations.

export const fmt = (n) => (n ?? 0).toLocaleString('en');

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `20898764075` -> `19.5 GiB` (binary units, as the settings' byte limits are). */
export function formatBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  let value = Math.abs(n);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 ? String(value) : value.toFixed(value < 10 ? 2 : 1).replace(/\.?0+$/, '');
  return `${n < 0 ? '-' : ''}${shown} ${BYTE_UNITS[unit]}`;
}

export function formatRate(rate) {
  return rate >= 100 ? Math.round(rate).toLocaleString('en') : rate.toFixed(rate >= 10 ? 1 : 2);
}

/**
 * A job's average rate, or null when it says nothing: one task, or a run too short to time
 * (a failed 1-page job over 13 ms is not "76.9 tasks/s").
 */
export const MIN_RATE_TASKS = 2;
export const MIN_RATE_MS = 1000;
export function averageRate(tasks, ms) {
  if (tasks < MIN_RATE_TASKS || !(ms > 0)) return null;
  // Short runs of many tasks still give a fair figure; short runs of few tasks do not.
  if (ms < MIN_RATE_MS && tasks < 10) return null;
  return (tasks * 1000) / ms;
}

export function formatDuration(ms) {
  if (ms == null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

/** What a job counts in: a crawl's tasks are pages. */
export const unitOf = (kind) => (kind === 'crawl' ? 'pages' : 'tasks');
