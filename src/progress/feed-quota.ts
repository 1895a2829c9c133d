/** Who holds a feed connection: the API key's owner (when keys are on) and the client's address. */
export interface FeedHolder {
  owner?: string;
  address: string;
}

/** Open feed connections allowed at once (WS_MAX_CONNECTIONS_PER_KEY, WS_MAX_CONNECTIONS_PER_ADDRESS). */
export interface FeedCaps {
  perKey: number;
  perAddress: number;
}

/** A connection slot taken (its lease, given back with `release`), or the cap that is full. */
export type FeedAdmission = { lease: string } | { refused: 'key' | 'address' };

/** One message counted in its caller's fixed window: the count so far and what is left of the window. */
export interface FeedSpend {
  count: number;
  resetInMs: number;
}

/**
 * The feed's budgets, WebSocket and SSE alike: open connections per API key and per address, and
 * messages per caller in fixed windows. The port (an abstract class, so it is also the injection
 * token): MemoryFeedQuota counts in this process; RedisFeedQuota counts for every instance on one
 * Redis, so that spreading connections or messages over the instances buys nothing. Its slots are
 * leases that the instance holding them renews: a killed instance's connections stop counting once
 * their lease lapses, without anyone releasing them.
 */
export abstract class FeedQuota {
  /**
   * Takes a slot for the holder's address and, if it has one, its key; or says which cap is full
   * (the address's is judged first). A refused open takes nothing.
   */
  abstract open(holder: FeedHolder, caps: FeedCaps): Promise<FeedAdmission>;

  /** Gives a slot back. Releasing a lease twice, or one that lapsed, is harmless. */
  abstract release(lease: string): Promise<void>;

  /** Counts one message (or ping) of `caller` in its window of `windowMs`, begun by its first message. */
  abstract spend(caller: string, windowMs: number): Promise<FeedSpend>;

  /** Stops whatever the implementation runs in the background (lease renewal); slots are not released. */
  close(): void {}
}
