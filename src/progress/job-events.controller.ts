import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Owner } from '../auth/auth.guard';
import { JobsService } from '../jobs/jobs.service';
import { openFeed } from './feed';

/** Comment lines keep proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/** The progress feed as Server-Sent Events, for curl and EventSource. */
@Controller('jobs')
export class JobEventsController {
  constructor(private readonly jobs: JobsService) {}

  @Get(':id/events')
  events(@Param('id') id: string, @Owner() owner: string | undefined, @Req() req: Request, @Res() res: Response): void {
    this.jobs.get(id, owner); // 404 before any stream headers go out
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    const stop = openFeed(this.jobs, id, owner, {
      send: (message) => res.write(`event: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`),
      end: () => {
        clearInterval(keepalive);
        res.end();
      },
    });
    req.on('close', () => {
      clearInterval(keepalive);
      stop();
    });
  }
}
