/**
 * A crawl's robots.txt decisions as notes on the job in the store (`robots:<origin>` -> the
 * RobotsRules as JSON), so the decision for an origin is made once per job: a runner taking the
 * job over after a crash, or a frontier that dropped an origin's rules to stay under
 * CRAWL_MAX_ROBOTS_BYTES and needs them again, reads the note instead of fetching robots.txt again.
 * Notes are read one origin at a time, when the frontier asks, so the rules held in memory stay
 * within the frontier's budget however many origins the job has decided.
 */
import type { RulesLoader } from './frontier';
import { disallowAll, type RobotsRules } from './robots-rules';

/** The job's notes, as the job context gives them (JobContext.saveNotes / readNotes). */
export interface JobNotes {
  saveNotes(notes: Record<string, string>): Promise<void>;
  readNotes(prefix: string): Promise<Record<string, string>>;
}

const PREFIX = 'robots:';

export function robotsNoteKey(origin: string): string {
  return PREFIX + origin;
}

/**
 * The frontier's loader: the stored decision for the origin if there is one, else `fetchRules`
 * (robots.txt over the network), stored before it is handed to the frontier, so no page of the
 * origin starts on a decision a takeover would not find. `fetchRules` rejects only when the job
 * stops (abort): that answer is no decision and is not stored. A store that cannot be read or
 * written costs a fetch again later, never the crawl.
 */
export function robotsLoaderWithNotes(notes: JobNotes, fetchRules: (origin: string) => Promise<RobotsRules>): RulesLoader {
  return (origin, set) => {
    void decide(notes, origin, fetchRules).then(set);
  };
}

async function decide(notes: JobNotes, origin: string, fetchRules: (origin: string) => Promise<RobotsRules>): Promise<RobotsRules> {
  const key = robotsNoteKey(origin);
  // A prefix read: `robots:http://a.test` would also match `robots:http://a.test:8080`.
  const stored = await notes.readNotes(key).then(
    (found) => found[key],
    () => undefined,
  );
  const known = stored === undefined ? undefined : parseRules(stored);
  if (known) return known;
  let rules: RobotsRules;
  try {
    rules = await fetchRules(origin);
  } catch {
    return disallowAll('robots.txt could not be read');
  }
  await notes.saveNotes({ [key]: JSON.stringify(rules) }).catch(() => undefined);
  return rules;
}

/** The stored rules, or undefined for a note that is not rules (then the origin is read again). */
function parseRules(note: string): RobotsRules | undefined {
  try {
    const rules = JSON.parse(note) as RobotsRules;
    return Array.isArray(rules?.allow) && Array.isArray(rules.disallow) ? rules : undefined;
  } catch {
    return undefined;
  }
}
