import { z } from 'zod';
import { int, isCidr, list } from '../config/setting-types';

/** Webhook delivery settings, part of the one config schema (src/config/config.schema.ts). */
export const webhookSettings = {
  WEBHOOK_ALLOW_TARGETS: list(z.string().refine((cidr) => isCidr(cidr), { error: 'each entry must be a CIDR such as 127.0.0.1/32 or fd00::/8' })).describe(
    'Comma-separated CIDRs webhook deliveries may reach although they are private, loopback or reserved (tests, intranets); logged as a warning at startup. Empty: only global unicast addresses. Separate from CRAWL_ALLOW_TARGETS.',
  ),
  WEBHOOK_TIMEOUT_MS: int(100, 60_000, 5_000).describe('Deadline of one delivery attempt, connection and response included; past it the attempt fails as `timeout`.'),
  WEBHOOK_MAX_ATTEMPTS: int(1, 50, 8).describe('Attempts per delivery (the first included) before it is given up as `failed`.'),
  WEBHOOK_BACKOFF_MS: int(10, 3_600_000, 2_000).describe(
    'Delay before the second attempt; each later one doubles it (with jitter: between half and all of it), up to WEBHOOK_MAX_DELAY_MS. A 429 or 503 with Retry-After waits that long instead.',
  ),
  WEBHOOK_MAX_DELAY_MS: int(100, 24 * 3_600_000, 3_600_000).describe('Longest wait between two attempts, Retry-After included.'),
  WEBHOOK_CONCURRENCY: int(1, 1_024, 32).describe('Deliveries one instance sends at once.'),
  WEBHOOK_PER_RECEIVER: int(1, 64, 2).describe("Deliveries one instance sends at once to one receiver (one key's URL origin): a slow receiver holds at most this many, never another's turn."),
  WEBHOOK_PAGE_BATCH: int(1, 1_000, 50).describe('Pages per `crawl.page` delivery at most.'),
  WEBHOOK_PAGE_BATCH_MS: int(10, 60_000, 1_000).describe('Longest a recorded page waits for its `crawl.page` batch to fill before it is sent anyway.'),
};
