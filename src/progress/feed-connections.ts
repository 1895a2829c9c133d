import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { type FeedCaps, FeedQuota } from './feed-quota';

/** A slot taken (give it back once, when the connection ends), or the cap that is full, in words. */
export type FeedSlot = { release: () => void } | { refused: string };

/**
 * Open feed connections per API key and per client address, WebSocket and SSE counted together
 * (WS_MAX_CONNECTIONS_PER_KEY, WS_MAX_CONNECTIONS_PER_ADDRESS). The counts are the backend's
 * FeedQuota: in the cluster mode, one count for every instance.
 */
@Injectable()
export class FeedConnections {
  private readonly logger = new Logger(FeedConnections.name);
  private readonly caps: FeedCaps;

  constructor(
    private readonly quota: FeedQuota,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'WS_MAX_CONNECTIONS_PER_KEY' | 'WS_MAX_CONNECTIONS_PER_ADDRESS'>,
  ) {
    this.caps = { perKey: config.WS_MAX_CONNECTIONS_PER_KEY, perAddress: config.WS_MAX_CONNECTIONS_PER_ADDRESS };
  }

  /** Takes a slot, or says which cap is full. An outage of the shared count rejects (answered 503). */
  async take(owner: string | undefined, address: string): Promise<FeedSlot> {
    const admission = await this.quota.open({ owner, address }, this.caps);
    if ('refused' in admission) {
      return admission.refused === 'address'
        ? { refused: `too many feed connections from this address (WS_MAX_CONNECTIONS_PER_ADDRESS ${this.caps.perAddress})` }
        : { refused: `too many feed connections for this API key (WS_MAX_CONNECTIONS_PER_KEY ${this.caps.perKey})` };
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        // A slot that cannot be given back now (shared count out of reach) lapses with its lease.
        this.quota.release(admission.lease).catch((error: unknown) => this.logger.warn(`could not release a feed connection slot: ${error instanceof Error ? error.message : String(error)}`));
      },
    };
  }
}
