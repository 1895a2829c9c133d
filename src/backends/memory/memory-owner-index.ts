/**
 * Job ids by owner, each owner's in the order they were added (a Set keeps insertion order), so
 * a keyed caller's listing or `*` feed walks its own jobs and not every tenant's.
 */
export class OwnerIndex {
  private readonly byOwner = new Map<string, Set<string>>();

  add(owner: string | undefined, id: string): void {
    if (owner === undefined) return;
    let ids = this.byOwner.get(owner);
    if (!ids) this.byOwner.set(owner, (ids = new Set()));
    ids.add(id);
  }

  delete(owner: string | undefined, id: string): void {
    if (owner === undefined) return;
    const ids = this.byOwner.get(owner);
    if (!ids) return;
    ids.delete(id);
    // An owner with nothing left leaves no entry behind: keys come and go.
    if (ids.size === 0) this.byOwner.delete(owner);
  }

  /** The owner's ids, oldest first (a live view: copy before changing the index). */
  of(owner: string): ReadonlySet<string> {
    return this.byOwner.get(owner) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
