import { describe } from 'vitest';

/**
 * keyv's test-suite idea (@keyv/test-suite): the cases of a contract are grouped by what they
 * need. A group runs for every implementation that has the capability; for one that has not, it
 * is skipped, and the report says so with the reason in the group's name. A case never returns
 * early, and never fakes what the implementation cannot do (a second instance that is the same
 * object as the first proves nothing about sharing).
 */
export function describeCapability(implementation: string, capability: string, has: boolean, body: () => void): void {
  describe.skipIf(!has)(has ? capability : `${capability} (skipped: ${implementation} has no ${capability})`, body);
}

/** What a harness offers only with a capability: there when the group runs, a clear failure if it is missing. */
export function needs<T>(value: T | undefined | false, what: string): T {
  if (value === undefined || value === false) throw new Error(`the harness declares the capability but does not provide ${what}`);
  return value;
}
