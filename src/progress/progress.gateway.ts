import { type OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import type { RawData, WebSocket } from 'ws';
import { JobsService } from '../jobs/jobs.service';
import { clientMessage, errorMessage, type WireMessage } from './feed-protocol';
import { openFeed } from './feed';

/**
 * The progress feed over plain WebSocket at /ws. Messages are handled here rather than through
 * @SubscribeMessage so that every bad message gets an `error` event instead of silence.
 */
@WebSocketGateway({ path: '/ws' })
export class ProgressGateway implements OnGatewayConnection {
  constructor(private readonly jobs: JobsService) {}

  handleConnection(client: WebSocket): void {
    const feeds = new Map<string, () => void>();
    const send = (message: WireMessage) => {
      if (client.readyState === client.OPEN) client.send(JSON.stringify(message));
    };
    client.on('message', (raw: RawData) => this.onMessage(raw, feeds, send));
    client.once('close', () => {
      for (const stop of feeds.values()) stop();
      feeds.clear();
    });
  }

  private onMessage(raw: RawData, feeds: Map<string, () => void>, send: (message: WireMessage) => void): void {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString());
    } catch {
      return send(errorMessage('message is not valid JSON'));
    }
    const parsed = clientMessage.safeParse(json);
    if (!parsed.success) {
      return send(errorMessage(parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ')));
    }
    const { event, data } = parsed.data;
    const { jobId } = data;
    feeds.get(jobId)?.();
    feeds.delete(jobId);
    if (event === 'unsubscribe') return send({ event: 'unsubscribed', data: { jobId } });
    try {
      let ended = false;
      const stop = openFeed(this.jobs, jobId, undefined, {
        send,
        end: () => {
          ended = true;
          feeds.delete(jobId);
        },
      });
      if (!ended) feeds.set(jobId, stop);
    } catch (err) {
      send(errorMessage(err instanceof Error ? err.message : String(err), { jobId }));
    }
  }
}
