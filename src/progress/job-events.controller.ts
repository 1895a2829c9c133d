import { Controller, Get, Inject, Logger, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Owner } from '../auth/auth.guard';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { JobsService } from '../jobs/jobs.service';
import { errorMessage, type WireMessage } from './feed-protocol';
import { watchDrain } from './drain-watch';
import { openFeed } from './feed';

/** Comment lines keep proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/** The job's seq goes in the standard `id` field (EventSource's lastEventId). */
const frame = (message: WireMessage) => `event: ${message.event}\ndata: ${JSON.stringify(message.data)}\n${message.seq !== undefined ? `id: ${message.seq}\n` : ''}\n`;

/** The progress feed as Server-Sent Events, for curl and EventSource. */
@Controller('jobs')
export class JobEventsController {
  private readonly logger = new Logger(JobEventsController.name);

  constructor(
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get(':id/events')
  async events(@Param('id') id: string, @Owner() owner: string | undefined, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.jobs.get(id, owner); // 404 before any stream headers go out
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
    const opened = await openFeed(this.jobs, id, owner, {
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
    }).catch((err) => {
      // The job went away between the check and the feed (evicted): say so on the stream.
      clearInterval(keepalive);
      res.end(frame(errorMessage(err instanceof Error ? err.message : String(err))));
      return () => {};
    });
    if (closed) opened();
    else stop = opened;
  }
}
