import { Logger } from '@nestjs/common';
import { BackendUnavailableError } from '../backends/backend-unavailable';
import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { badForwardedFor, clientAddress, type TrustProxy } from '../common/client-address';
import type { IncomingMessage } from 'node:http';
import { ApiKeys, bearerToken, keyFromProtocols } from '../auth/api-keys';
import type { AuthFailures } from '../auth/auth-failures';
import type { FeedConnections } from './feed-connections';

export interface FeedSocketOptions {
  keys: ApiKeys;
  failures: AuthFailures;
  connections: FeedConnections;
  /** Browser origins allowed besides the page's own host. */
  allowedOrigins: readonly string[];
  /** Which proxies may name the client (TRUST_PROXY): the per-address limits count clients, not the load balancer. */
  trust: TrustProxy;
  maxPayload: number;
}

type VerifyCallback = (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void;
/** The upgrade's verdict: accepted, or refused with a status (ws answers it and closes the socket). */
type Verdict = { ok: true } | { ok: false; code: number; message: string; headers?: Record<string, string> };
const refuse = (code: number, message: string, headers?: Record<string, string>): Verdict => ({ ok: false, code, message, headers });

/** The upgrade request, with what admission learnt about its client (the gateway reads it). */
export type FeedUpgrade = IncomingMessage & { owner?: string; clientAddress?: string };

/**
 * The ws adapter with the feed's admission rules applied at the upgrade, before a socket
 * exists: a client address that is an IP (400), failed-auth limit per address (429), Origin
 * (403), API key (401, header or `bearer, <key>` subprotocols), connection caps per key and per
 * address, counted with the SSE streams (429), and a cap on message size (ws closes an oversized
 * frame's socket with 1009).
 */
export class FeedWsAdapter extends WsAdapter {
  private readonly clientLogger = new Logger('FeedSocket');
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
      // The failed-auth count may be a Redis round trip: the verdict is async, and an outage of the
      // shared count refuses the upgrade (503), never hangs it. `done` is called once, outside the
      // verdict's own error handling.
      verifyClient: (info: { origin?: string; req: FeedUpgrade }, done: VerifyCallback) =>
        void this.verify(info)
          .then(
            (verdict) => (verdict.ok ? done(true) : done(false, verdict.code, verdict.message, verdict.headers)),
            (error: unknown) => (error instanceof BackendUnavailableError ? done(false, 503, 'Service Unavailable', { 'Retry-After': '1' }) : done(false, 500, 'Internal Server Error')),
          )
          // `done` itself throwing (the socket already gone) must not become an unhandled rejection.
          .catch((err: unknown) => this.clientLogger.warn(`upgrade answer failed: ${err instanceof Error ? err.message : String(err)}`)),
      handleProtocols: (protocols: Set<string>) => (protocols.has('bearer') ? 'bearer' : false),
    });
  }

  /**
   * The gateway reads its sockets' messages itself (every bad one gets an `error` event); Nest's
   * own per-message parse and rxjs pipeline would only double the cost of a flood for nothing.
   */
  /**
   * A client's protocol errors (an oversized frame: ws closes it with 1009; a bad frame: 1002) are
   * that client's fault and already answered: one warning line each, no stack. Server errors stay errors.
   */
  override bindErrorHandler(server: { on(event: string, listener: (...args: any[]) => void): unknown }) {
    server.on('connection', (socket: { on(event: string, listener: (err: Error & { code?: string }) => void): unknown }) =>
      socket.on('error', (err) => this.clientLogger.warn(`closed a client for a protocol error: ${err.message}${err.code ? ` (${err.code})` : ''}`)),
    );
    server.on('error', (err: Error) => this.clientLogger.error(err));
    return server;
  }

  override bindMessageHandlers(client: unknown, handlers: unknown[], transform: (data: unknown) => unknown): void {
    if (handlers.length > 0) super.bindMessageHandlers(client, handlers as Parameters<WsAdapter['bindMessageHandlers']>[1], transform as Parameters<WsAdapter['bindMessageHandlers']>[2]);
  }

  private async verify({ origin, req }: { origin?: string; req: FeedUpgrade }): Promise<Verdict> {
    const { allowedOrigins, keys, failures, connections } = this.feed;
    const address = clientAddress(req, this.feed.trust);
    if (address === undefined) return refuse(400, badForwardedFor(req));
    // Origin and key are judged first (locally), then one step on the count: see AuthFailures.
    const badOrigin = origin !== undefined && !sameHost(origin, req.headers.host) && !allowedOrigins.includes(origin);
    const owner = keys.enabled ? keys.verify(bearerToken(req.headers.authorization) ?? keyFromProtocols(req.headers['sec-websocket-protocol'])) : undefined;
    const failed = badOrigin || (keys.enabled && !owner);
    const wait = failed ? await failures.fail(address) : await failures.retryAfter(address);
    if (wait > 0) return refuse(429, failures.message, { 'Retry-After': String(wait) });
    if (badOrigin) return refuse(403, 'Origin not allowed');
    if (keys.enabled && !owner) return refuse(401, 'Unauthorized', { 'WWW-Authenticate': 'Bearer' });
    req.owner = owner;
    req.clientAddress = address;
    // The client may have gone while the count was read: its socket's 'close' has fired already,
    // so a slot taken now would never be released.
    if (req.socket.destroyed) return refuse(400, 'Client went away');
    const slot = await connections.take(req.owner, address);
    if ('refused' in slot) return refuse(429, slot.refused, { 'Retry-After': '1' });
    // The TCP socket closes whichever way the WebSocket ends (or the handshake fails); it may
    // have closed while the slot was being taken.
    if (req.socket.destroyed) {
      slot.release();
      return refuse(400, 'Client went away');
    }
    req.socket.once('close', slot.release);
    return { ok: true };
  }
}

/** Whether a browser's Origin is the page the feed is served from (same host and port). */
function sameHost(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    const from = new URL(origin);
    return new URL(`${from.protocol}//${host}`).host === from.host;
  } catch {
    return false;
  }
}
