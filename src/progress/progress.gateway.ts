import { Inject, Logger, type OnModuleDestroy } from '@nestjs/common';
import { type OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { JobsService } from '../jobs/jobs.service';
import { ALL_JOBS } from './event-bus';
import { clientMessage, errorMessage, type WireMessage } from './feed-protocol';
import { openFeed } from './feed';

/** One connected feed client. */
interface Peer {
  socket: WebSocket;
  owner?: string;
  feeds: Map<string, () => void>;
  alive: boolean;
}

/**
 * The progress feed over plain WebSocket at /ws. Messages are handled here rather than through
 * @SubscribeMessage so that every bad message gets an `error` event instead of silence.
 * Admission (origin, API key, frame size) happens earlier, at the upgrade: see FeedWsAdapter.
 */
@WebSocketGateway({ path: '/ws' })
export class ProgressGateway implements OnGatewayConnection, OnModuleDestroy {
  private readonly logger = new Logger(ProgressGateway.name);
  private readonly peers = new Set<Peer>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.heartbeat = setInterval(() => this.beat(), config.WS_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Connected clients, for metrics. */
  get clients(): number {
    return this.peers.size;
  }

  handleConnection(socket: WebSocket, req?: IncomingMessage & { owner?: string }): void {
    const peer: Peer = { socket, owner: req?.owner, feeds: new Map(), alive: true };
    this.peers.add(peer);
    socket.on('pong', () => (peer.alive = true));
    socket.on('message', (raw: RawData) => this.onMessage(peer, raw));
    socket.once('close', () => this.forget(peer));
  }

  /** Shutdown: every client is told the server is going away (1001). */
  closeAll(code = 1001, reason = 'server shutting down'): void {
    for (const peer of this.peers) {
      this.forget(peer);
      peer.socket.close(code, reason);
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
  }

  private onMessage(peer: Peer, raw: RawData): void {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString());
    } catch {
      return this.send(peer, errorMessage('message is not valid JSON'));
    }
    const parsed = clientMessage.safeParse(json);
    if (!parsed.success) {
      return this.send(peer, errorMessage(parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ')));
    }
    const { event, data } = parsed.data;
    const { jobId } = data;
    peer.feeds.get(jobId)?.();
    peer.feeds.delete(jobId);
    if (event === 'unsubscribe') return this.send(peer, { event: 'unsubscribed', data: { jobId } });
    if (peer.feeds.size >= this.config.WS_MAX_SUBSCRIPTIONS) {
      return this.send(peer, errorMessage(`too many subscriptions on this connection (limit WS_MAX_SUBSCRIPTIONS ${this.config.WS_MAX_SUBSCRIPTIONS})`, { jobId }));
    }
    try {
      let ended = false;
      const stop = openFeed(this.jobs, jobId, peer.owner, {
        send: (message) => this.send(peer, message),
        end: () => {
          ended = true;
          peer.feeds.delete(jobId);
        },
      });
      if (!ended) peer.feeds.set(jobId, stop);
    } catch (err) {
      this.send(peer, errorMessage(err instanceof Error ? err.message : String(err), { jobId: jobId === ALL_JOBS ? undefined : jobId }));
    }
  }

  /**
   * A client that stops reading would make the server queue its messages without end; past
   * the cap it is closed with a reason (and cut off if it does not even read the close).
   */
  private send(peer: Peer, message: WireMessage): void {
    const { socket } = peer;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > this.config.WS_MAX_BUFFERED_BYTES) {
      this.logger.warn(`closing a slow feed client: ${socket.bufferedAmount} bytes unsent`);
      this.forget(peer);
      socket.close(1008, 'too slow: send buffer over WS_MAX_BUFFERED_BYTES');
      setTimeout(() => socket.terminate(), 2_000).unref();
      return;
    }
    socket.send(JSON.stringify(message));
  }

  /** Drops peers that missed a whole heartbeat; pings the rest. */
  private beat(): void {
    for (const peer of this.peers) {
      if (!peer.alive) {
        this.forget(peer);
        peer.socket.terminate();
        continue;
      }
      peer.alive = false;
      peer.socket.ping();
    }
  }

  private forget(peer: Peer): void {
    for (const stop of peer.feeds.values()) stop();
    peer.feeds.clear();
    this.peers.delete(peer);
  }
}
