import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { IncomingMessage } from 'node:http';
import { ApiKeys, bearerToken, keyFromProtocols } from '../auth/api-keys';

export interface FeedSocketOptions {
  keys: ApiKeys;
  /** Empty: any origin. */
  allowedOrigins: readonly string[];
  maxPayload: number;
}

type VerifyCallback = (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void;

/**
 * The ws adapter with the feed's admission rules applied at the upgrade, before a socket
 * exists: Origin allowlist, API key (Authorization header or `bearer, <key>` subprotocols),
 * and a cap on message size (ws closes an oversized frame's socket with 1009).
 */
export class FeedWsAdapter extends WsAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly feed: FeedSocketOptions,
  ) {
    super(app);
  }

  override create(port: number, options: Record<string, unknown> = {}) {
    return super.create(port, {
      ...options,
      maxPayload: this.feed.maxPayload,
      verifyClient: (info: { origin?: string; req: IncomingMessage & { owner?: string } }, done: VerifyCallback) => this.verify(info, done),
      handleProtocols: (protocols: Set<string>) => (protocols.has('bearer') ? 'bearer' : false),
    });
  }

  private verify({ origin, req }: { origin?: string; req: IncomingMessage & { owner?: string } }, done: VerifyCallback): void {
    const { allowedOrigins, keys } = this.feed;
    if (allowedOrigins.length > 0 && (!origin || !allowedOrigins.includes(origin))) {
      return done(false, 403, 'Origin not allowed');
    }
    if (keys.enabled) {
      const key = bearerToken(req.headers.authorization) ?? keyFromProtocols(req.headers['sec-websocket-protocol']);
      const owner = keys.verify(key);
      if (!owner) return done(false, 401, 'Unauthorized', { 'WWW-Authenticate': 'Bearer' });
      req.owner = owner;
    }
    done(true);
  }
}
