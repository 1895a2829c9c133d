import { Inject, Logger, type OnModuleDestroy } from '@nestjs/common';
import { type OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import { BACKEND, type Backend } from '../backends/backend';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { isJobId, jobNotFound } from '../jobs/job-id';
import { isFinal } from '../jobs/job.model';
import { toView } from '../jobs/job.view';
import { JobsService } from '../jobs/jobs.service';
import { ALL_JOBS } from '../jobs/event-bus';
import { feedFailure } from './feed-errors';
import { clientMessage, errorMessage, type WireMessage } from './feed-protocol';
import { FeedQuota } from './feed-quota';
import type { FeedUpgrade } from './feed-ws.adapter';
import { watchDrain } from './drain-watch';
import { openFeed } from './feed';

/** Finished jobs remembered per connection as already sent whole; the oldest are forgotten past it. */
const SENT_WHOLE_LIMIT = 10_000;
const MESSAGE_WINDOW_MS = 60_000;

/** One connected feed client. */
interface Peer {
  socket: WebSocket;
  owner?: string;
  /** Whose message window this connection's messages count in: the key's owner, else the address. */
  caller: string;
  feeds: Map<string, () => void>;
  alive: boolean;
  /** Finished jobs whose snapshot this connection already got: a re-subscribe gets only the final event. */
  sentWhole: Set<string>;
  /** Messages and pings received but not judged yet. */
  backlog: number;
  /** Over the message rate: what comes after is dropped unread (the refusal is on its way). */
  refusing: boolean;
  /** Cut off (slow, or flooding): nothing more is read or sent. */
  cut: boolean;
  /** Messages are handled one after the other (a subscribe reads the store), so answers keep the order of requests. */
  handling: Promise<void>;
}

/**
 * The progress feed over plain WebSocket at /ws. Messages are handled here rather than through
 * @SubscribeMessage so that every bad message gets an `error` event instead of silence.
 * Admission (failed-auth limit, origin, API key, connection caps, frame size) happens earlier,
 * at the upgrade: see FeedWsAdapter.
 */
@WebSocketGateway({ path: '/ws' })
export class ProgressGateway implements OnGatewayConnection, OnModuleDestroy {
  private readonly logger = new Logger(ProgressGateway.name);
  private readonly peers = new Set<Peer>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly jobs: JobsService,
    private readonly quota: FeedQuota,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(BACKEND) private readonly backend: Backend,
  ) {
    this.heartbeat = setInterval(() => this.beat(), config.WS_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Connected clients, for metrics. */
  get clients(): number {
    return this.peers.size;
  }

  handleConnection(socket: WebSocket, req?: FeedUpgrade): void {
    const caller = req?.owner ?? req?.clientAddress ?? 'unknown';
    const peer: Peer = { socket, owner: req?.owner, caller, feeds: new Map(), alive: true, sentWhole: new Set(), backlog: 0, refusing: false, cut: false, handling: Promise.resolve() };
    this.peers.add(peer);
    socket.on('pong', () => (peer.alive = true));
    socket.on('message', (raw: RawData) => this.onMessage(peer, raw));
    // ws answers a ping frame by itself; each one still counts as a message, or pings would be free.
    socket.on('ping', () => this.onMessage(peer));
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

  /**
   * A message (or a ping frame: `raw` undefined), counted in the caller's window (the backend's:
   * in the cluster mode one window per caller for every instance) and handled, in order. More
   * waiting to be judged than the caller may send in a whole window is a flood: refused at once,
   * whatever the shared count says, so a flood never queues without end.
   */
  private onMessage(peer: Peer, raw?: RawData): void {
    if (peer.cut || peer.refusing) return;
    const flooding = ++peer.backlog > this.config.WS_MAX_MESSAGES_PER_MINUTE;
    if (flooding) peer.refusing = true;
    peer.handling = peer.handling.then(async () => {
      peer.backlog--;
      if (peer.cut) return;
      const within = flooding ? false : await this.withinRate(peer);
      if (within === undefined || peer.cut) return;
      if (!within) return this.refuseRate(peer);
      if (raw !== undefined) return this.handle(peer, raw);
    });
  }

  /** Whether the caller is within its message rate; undefined when the count could not be read (answered). */
  private async withinRate(peer: Peer): Promise<boolean | undefined> {
    try {
      const { count } = await this.quota.spend(peer.caller, MESSAGE_WINDOW_MS);
      return count <= this.config.WS_MAX_MESSAGES_PER_MINUTE;
    } catch (error) {
      // Unread is safer than unlimited: the message is answered with an error, not handled.
      this.sendFailure(peer, error, 'counting a feed message');
      return undefined;
    }
  }

  private refuseRate(peer: Peer): void {
    peer.refusing = true;
    const limit = this.config.WS_MAX_MESSAGES_PER_MINUTE;
    this.send(peer, errorMessage(`too many messages: over WS_MAX_MESSAGES_PER_MINUTE (${limit} a minute for this API key or address, on every connection, pings included); closing`));
    this.cutOff(peer, 1008, 'message rate over WS_MAX_MESSAGES_PER_MINUTE');
  }

  /** A failure in the envelope's words (request id included); the error itself goes to the log only. */
  private sendFailure(peer: Peer, error: unknown, what: string, extra: Record<string, unknown> = {}): void {
    const { message, requestId } = feedFailure(error, { requestId: randomUUID(), what, logger: this.logger, isOutage: this.backend.isOutage });
    this.send(peer, errorMessage(message, { ...extra, ...(requestId ? { requestId } : {}) }));
  }

  private async handle(peer: Peer, raw: RawData): Promise<void> {
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
    const { jobId, afterSeq } = data;
    // Anything but a job id (or `*`) is an unknown job, answered before any store call.
    if (event === 'subscribe' && jobId !== ALL_JOBS && !isJobId(jobId)) return this.send(peer, errorMessage(jobNotFound(jobId).message, { jobId }));
    peer.feeds.get(jobId)?.();
    peer.feeds.delete(jobId);
    if (event === 'unsubscribe') return this.send(peer, { event: 'unsubscribed', data: { jobId } });
    if (peer.feeds.size >= this.config.WS_MAX_SUBSCRIPTIONS) {
      return this.send(peer, errorMessage(`too many subscriptions on this connection (limit WS_MAX_SUBSCRIPTIONS ${this.config.WS_MAX_SUBSCRIPTIONS})`, { jobId }));
    }
    await this.subscribe(peer, jobId, afterSeq).catch((err: unknown) => this.sendFailure(peer, err, `subscribe to ${jobId}`, { jobId: jobId === ALL_JOBS ? undefined : jobId }));
  }

  private async subscribe(peer: Peer, jobId: string, afterSeq?: number): Promise<void> {
    // Held while the feed opens (a store read away), so a second subscribe or an unsubscribe meanwhile wins.
    const opening = () => {};
    peer.feeds.set(jobId, opening);
    if (jobId !== ALL_JOBS) {
      const job = await this.jobs.get(jobId, peer.owner).catch((err) => {
        if (peer.feeds.get(jobId) === opening) peer.feeds.delete(jobId);
        throw err; // 404 for unknown jobs and other keys' jobs
      });
      if (peer.feeds.get(jobId) !== opening) return;
      if (isFinal(job.status) && afterSeq === undefined) {
        // A finished job never changes: its snapshot goes out once per connection, so a client
        // re-subscribing in a loop costs one small message each time, not the whole task map.
        if (peer.sentWhole.has(job.id)) {
          peer.feeds.delete(jobId);
          return this.send(peer, { event: `job.${job.status}`, seq: job.seq, data: toView(job) });
        }
        peer.sentWhole.add(job.id);
        if (peer.sentWhole.size > SENT_WHOLE_LIMIT) peer.sentWhole.delete(peer.sentWhole.values().next().value as string);
      }
    }
    let ended = false;
    const stop = await openFeed(
      this.jobs,
      jobId,
      peer.owner,
      {
        send: (message) => this.send(peer, message),
        end: () => {
          ended = true;
          if (peer.feeds.get(jobId) === opening) peer.feeds.delete(jobId);
        },
      },
      afterSeq,
    ).catch((err) => {
      if (peer.feeds.get(jobId) === opening) peer.feeds.delete(jobId);
      throw err;
    });
    // Unsubscribed, re-subscribed or disconnected while it opened: this feed is not wanted any more.
    if (peer.feeds.get(jobId) !== opening || !this.peers.has(peer)) return stop();
    if (ended) peer.feeds.delete(jobId);
    else peer.feeds.set(jobId, stop);
  }

  /**
   * A client that stops reading would make the server queue its messages without end; past
   * the cap it is closed with a reason.
   */
  private send(peer: Peer, message: WireMessage): void {
    const { socket } = peer;
    if (peer.cut || socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > this.config.WS_MAX_BUFFERED_BYTES) {
      this.logger.warn(`closing a slow feed client: ${socket.bufferedAmount} bytes unsent`);
      return this.cutOff(peer, 1008, 'too slow: send buffer over WS_MAX_BUFFERED_BYTES');
    }
    socket.send(JSON.stringify(message));
  }

  /**
   * Stops feeding a peer and closes it with a reason. The close frame queues behind what is
   * unsent, so a client that reads on gets it; one that makes no progress for a whole heartbeat
   * is cut off (ws itself gives up on the closing handshake after 30 s).
   */
  private cutOff(peer: Peer, code: number, reason: string): void {
    peer.cut = true;
    this.forget(peer);
    const { socket } = peer;
    socket.close(code, reason);
    const stop = watchDrain(
      () => socket.bufferedAmount,
      () => socket.terminate(),
      this.config.WS_HEARTBEAT_MS,
    );
    socket.once('close', stop);
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
