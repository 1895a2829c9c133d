/**
 * Creation positions in ascending order, for walking newest first from any point (a cursor) in
 * O(log n) and counting in O(1). Jobs arrive in position order, so adding is almost always a
 * push; removing one (retention, a status change) is a binary search and a splice.
 */
export class SortedPositions {
  private readonly positions: number[] = [];

  get size(): number {
    return this.positions.length;
  }

  add(position: number): void {
    const { positions } = this;
    if (positions.length === 0 || position > positions[positions.length - 1]) {
      positions.push(position);
      return;
    }
    const at = this.firstAtOrAbove(position);
    if (positions[at] !== position) positions.splice(at, 0, position);
  }

  delete(position: number): void {
    const at = this.firstAtOrAbove(position);
    if (this.positions[at] === position) this.positions.splice(at, 1);
  }

  /** Positions below `before` (all without it), newest first. */
  *descending(before?: number): Generator<number> {
    const { positions } = this;
    for (let at = (before === undefined ? positions.length : this.firstAtOrAbove(before)) - 1; at >= 0; at--) yield positions[at];
  }

  private firstAtOrAbove(position: number): number {
    let low = 0;
    let high = this.positions.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.positions[middle] < position) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
