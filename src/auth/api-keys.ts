import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * API keys, checked in constant time: both sides are hashed to the same length first, and
 * every configured key is compared, so neither the length nor the position of a match leaks.
 */
export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** The owner id of a valid key (a short hash, never the key itself), or undefined. */
  verify(candidate: string | undefined): string | undefined {
    if (!candidate) return undefined;
    const given = digest(candidate);
    let match: Buffer | undefined;
    for (const known of this.digests) {
      if (timingSafeEqual(given, known)) match = known;
    }
    return match ? ownerId(match) : undefined;
  }
}

/** `Authorization: Bearer <key>` -> key. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * Browsers cannot set headers on a WebSocket, so the key may come as subprotocols instead:
 * `new WebSocket(url, ['bearer', key])`.
 */
export function keyFromProtocols(header: string | undefined): string | undefined {
  const offered = (header ?? '').split(',').map((p) => p.trim());
  const at = offered.indexOf('bearer');
  return at >= 0 ? offered[at + 1] : undefined;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

function ownerId(keyDigest: Buffer): string {
  return keyDigest.toString('hex').slice(0, 16);
}
