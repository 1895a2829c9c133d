/**
 * Open feed connections per API key and per client address. A slot is taken at the upgrade and
 * given back when the TCP socket closes, however the WebSocket ended.
 */
export class FeedConnections {
  private readonly byKey = new Map<string, number>();
  private readonly byAddress = new Map<string, number>();

  constructor(
    private readonly maxPerKey: number,
    private readonly maxPerAddress: number,
  ) {}

  /** Takes a slot, or says which cap is full. */
  take(owner: string | undefined, address: string): { release: () => void } | { refused: string } {
    if ((this.byAddress.get(address) ?? 0) >= this.maxPerAddress) {
      return { refused: `too many feed connections from this address (WS_MAX_CONNECTIONS_PER_ADDRESS ${this.maxPerAddress})` };
    }
    if (owner !== undefined && (this.byKey.get(owner) ?? 0) >= this.maxPerKey) {
      return { refused: `too many feed connections for this API key (WS_MAX_CONNECTIONS_PER_KEY ${this.maxPerKey})` };
    }
    bump(this.byAddress, address, 1);
    if (owner !== undefined) bump(this.byKey, owner, 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        bump(this.byAddress, address, -1);
        if (owner !== undefined) bump(this.byKey, owner, -1);
      },
    };
  }
}

function bump(counts: Map<string, number>, id: string, by: number): void {
  const next = (counts.get(id) ?? 0) + by;
  if (next > 0) counts.set(id, next);
  else counts.delete(id);
}
