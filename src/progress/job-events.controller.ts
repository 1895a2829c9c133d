import { BadRequestException, Controller, Get, Inject, Logger, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Owner } from '../auth/auth.guard';
import { BACKEND, type Backend } from '../backends/backend';
import { requestIdOf } from '../common/request-id';
import { RetryableException } from '../common/retryable.exception';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { JobIdPipe } from '../jobs/job-id';
import { JobsService } from '../jobs/jobs.service';
import { FeedConnections } from './feed-connections';
import { feedFailure } from './feed-errors';
import { errorMessage, type WireMessage } from './feed-protocol';
import { watchDrain } from './drain-watch';
import { openFeed } from './feed';

/** Comment lines keep proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/** The job's seq goes in the standard `id` field (EventSource's lastEventId). */
const frame = (message: WireMessage) => `event: ${message.event}\ndata: ${JSON.stringify(message.data)}\n${message.seq !== undefined ? `id: ${message.seq}\n` : ''}\n`;

/**
 * The progress feed as Server-Sent Events, for curl and EventSource. A stream holds a feed
 * connection slot, counted with the WebSockets against the caps per key and per address.
 */
@Controller('jobs')
export class JobEventsController {
  private readonly logger = new Logger(JobEventsController.name);

  constructor(
    private readonly jobs: JobsService,
    private readonly connections: FeedConnections,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(BACKEND) private readonly backend: Backend,
  ) {}

  @Get(':id/events')
  async events(@Param('id', JobIdPipe) id: string, @Owner() owner: string | undefined, @Req() req: Request, @Res() res: Response): Promise<void> {
    // 400, 404 and 429 go out as JSON errors, before any stream headers.
    const afterSeq = lastEventId(req.headers['last-event-id']);
    await this.jobs.get(id, owner);
    // req.ip: the address through the trusted proxies, as the WebSocket upgrade counts it.
    const slot = await this.connections.take(owner, req.ip ?? req.socket.remoteAddress ?? 'unknown');
    if ('refused' in slot) throw new RetryableException(429, slot.refused, 1);
    // The response closes however the stream ends: final event, cut off, or the client gone
    // (maybe already, while the slot was taken).
    if (req.socket.destroyed) return slot.release();
    res.once('close', slot.release);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    let cut = false;
    let stop: () => void = () => {};
    const cutOff = () => {
      cut = true;
      this.logger.warn(`closing a slow event stream: ${res.writableLength} bytes unsent`);
      clearInterval(keepalive);
      stop();
      // Behind what is unsent, so a reader that catches up learns why the stream ended.
      res.end(frame(errorMessage('too slow: send buffer over WS_MAX_BUFFERED_BYTES; stream closed')));
      // As on the WebSocket: kept while it reads on, dropped after a heartbeat without progress.
      const unwatch = watchDrain(
        () => res.writableLength,
        () => res.destroy(),
        this.config.WS_HEARTBEAT_MS,
      );
      res.once('close', unwatch);
    };
    let closed = false;
    req.on('close', () => {
      closed = true;
      clearInterval(keepalive);
      stop();
    });
    const opened = await openFeed(
      this.jobs,
      id,
      owner,
      {
        send: (message) => {
          if (cut) return;
          // Same cap as the WebSocket: a reader that stops reading must not make the server
          // queue a whole job's updates for it.
          if (res.writableLength > this.config.WS_MAX_BUFFERED_BYTES) return cutOff();
          res.write(frame(message));
        },
        end: () => {
          clearInterval(keepalive);
          res.end();
        },
      },
      afterSeq,
    ).catch((err: unknown) => {
      // The job went away between the check and the feed (evicted), or the store failed: say so
      // on the stream, in the envelope's words (the store's own error only in the log).
      clearInterval(keepalive);
      const failure = feedFailure(err, { requestId: requestIdOf(req) ?? 'none', what: `GET /jobs/${id}/events`, logger: this.logger, isOutage: this.backend.isOutage });
      res.end(frame(errorMessage(failure.message, failure.requestId ? { requestId: failure.requestId } : {})));
      return () => {};
    });
    if (closed) opened();
    else stop = opened;
  }
}

/**
 * EventSource's `Last-Event-ID` on a reconnect: the last seq the client got (our `id:` lines), so
 * the feed resumes after it. Anything but a decimal seq is 400 naming the header.
 */
function lastEventId(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value.trim())) return Number(value.trim());
  const field = 'header.last-event-id';
  const message = 'must be the seq of the last event received (a decimal integer)';
  throw new BadRequestException({ message: `${field}: ${message}`, issues: [{ field, rule: 'invalid_string', message }] });
}
