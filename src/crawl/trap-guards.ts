/**
 * Guards against crawler traps: URL spaces that never end (calendars with a "next month" link,
 * session ids minted per visit, paths that repeat themselves through relative links, one section
 * of a site swallowing the whole budget). Pure, main thread: checked for every link the frontier
 * would queue, in time linear in the URL. A URL a guard stops is counted under the guard's name
 * in the job's summary (`skipped.<guard>`). Every guard can be tuned, 0 turning it off.
 */
import { removeQueryParams } from './url-normalize';

export const TRAP_GUARDS = ['urlTooLong', 'repeatedSegments', 'prefixBudget', 'calendar', 'sessionId'] as const;
export type TrapGuard = (typeof TRAP_GUARDS)[number];

export interface TrapOptions {
  /** Longest URL followed (characters); 0: no limit past normalisation's 2,048. */
  maxUrlLength: number;
  /** Times one path segment may appear in a path (`/a/b/a/b/a` has `a` 3 times); 0: off. */
  maxSegmentRepeats: number;
  /** Pages per path prefix (the first `prefixSegments` segments); 0: off. */
  maxPagesPerPrefix: number;
  prefixSegments: number;
  /** Pages per calendar shape (the URL with its dates taken out); 0: off. */
  maxCalendarPages: number;
  /** Session ids (`;jsessionid=`, `PHPSESSID`, `sid`...) removed from URLs: their copies are skipped. */
  sessionIds: boolean;
}

export const DEFAULT_TRAP_OPTIONS: TrapOptions = { maxUrlLength: 2048, maxSegmentRepeats: 3, maxPagesPerPrefix: 0, prefixSegments: 1, maxCalendarPages: 30, sessionIds: true };

const SESSION_PATH_PARAM = /;(jsessionid|phpsessid|sid|sessionid)=[^/?#]*/gi;
const SESSION_PARAMS = new Set(['jsessionid', 'phpsessid', 'sid', 'sessionid', 'session_id', 'sessid', 'aspsessionid', 'cfid', 'cftoken', 'zenid', 'osCsid'.toLowerCase()]);
/** A date in a path: /2024/01/02, /2024/01, /2024-01-02 (years 1900-2099). */
const PATH_DATE = /\/(?:19|20)\d\d(?:[/-](?:0?[1-9]|1[0-2]))(?:[/-](?:0?[1-9]|[12]\d|3[01]))?(?=\/|$|\?)/g;
const DATE_PARAMS = new Set(['date', 'day', 'month', 'year', 'week', 'cal', 'calendar']);

export class TrapGuards {
  readonly skipped: Record<TrapGuard, number> = { urlTooLong: 0, repeatedSegments: 0, prefixBudget: 0, calendar: 0, sessionId: 0 };
  private readonly prefixes = new Map<string, number>();
  private readonly calendars = new Map<string, number>();

  constructor(private readonly options: TrapOptions) {}

  /** `url` without session ids (when that guard is on). */
  clean(url: string): string {
    if (!this.options.sessionIds) return url;
    const noPathParam = url.includes(';') ? url.replace(SESSION_PATH_PARAM, '') : url;
    return removeQueryParams(noPathParam, (name) => SESSION_PARAMS.has(name) || name.startsWith('aspsessionid'));
  }

  /** The guard that stops `url`, counted; undefined if it may be queued (then it counts against the budgets). */
  check(url: string): TrapGuard | undefined {
    const parsed = new URL(url);
    const guard = this.stops(url, parsed);
    if (guard) {
      this.skipped[guard]++;
      return guard;
    }
    this.count(parsed);
    return undefined;
  }

  /** A copy of an already-seen URL, made by a session id. */
  countSessionCopy(): void {
    this.skipped.sessionId++;
  }

  /** A page already in the job (a takeover): counts against the budgets, never stopped. */
  count(parsed: URL): void {
    const prefix = this.prefixOf(parsed);
    if (prefix !== undefined) this.prefixes.set(prefix, (this.prefixes.get(prefix) ?? 0) + 1);
    const calendar = this.calendarOf(parsed);
    if (calendar !== undefined) this.calendars.set(calendar, (this.calendars.get(calendar) ?? 0) + 1);
  }

  private stops(url: string, parsed: URL): TrapGuard | undefined {
    const { maxUrlLength, maxSegmentRepeats, maxPagesPerPrefix, maxCalendarPages } = this.options;
    if (maxUrlLength > 0 && url.length > maxUrlLength) return 'urlTooLong';
    if (maxSegmentRepeats > 0 && repeatsSegment(parsed.pathname, maxSegmentRepeats)) return 'repeatedSegments';
    const calendar = this.calendarOf(parsed);
    if (calendar !== undefined && (this.calendars.get(calendar) ?? 0) >= maxCalendarPages) return 'calendar';
    const prefix = this.prefixOf(parsed);
    if (prefix !== undefined && (this.prefixes.get(prefix) ?? 0) >= maxPagesPerPrefix) return 'prefixBudget';
    return undefined;
  }

  private prefixOf(url: URL): string | undefined {
    if (this.options.maxPagesPerPrefix === 0) return undefined;
    const segments = url.pathname.split('/').filter(Boolean).slice(0, this.options.prefixSegments);
    return `${url.host}/${segments.join('/')}`;
  }

  /** The URL with its dates replaced, if it has any: one "calendar" for every month or day of it. */
  private calendarOf(url: URL): string | undefined {
    if (this.options.maxCalendarPages === 0) return undefined;
    let dated = false;
    const path = url.pathname.replace(PATH_DATE, () => {
      dated = true;
      return '/{date}';
    });
    let query = '';
    if (url.search) {
      for (const part of url.search.slice(1).split('&')) {
        const name = part.split('=', 1)[0].toLowerCase();
        if (DATE_PARAMS.has(name)) {
          dated = true;
          query += `&${name}={date}`;
        } else query += `&${part}`;
      }
    }
    return dated ? `${url.host}${path}?${query}` : undefined;
  }
}

function repeatsSegment(path: string, max: number): boolean {
  const counts = new Map<string, number>();
  for (const segment of path.split('/')) {
    if (!segment) continue;
    const count = (counts.get(segment) ?? 0) + 1;
    if (count > max) return true;
    counts.set(segment, count);
  }
  return false;
}
