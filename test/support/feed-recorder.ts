import WebSocket from 'ws';

export interface FeedMessage {
  event: string;
  data: any;
}

export interface Closed {
  code: number;
  reason: string;
  /** How many messages had arrived when the close frame came. */
  after: number;
}

/**
 * A WebSocket client on /ws that records every message and how the socket closed, so a test
 * can assert the order of the last events and the close code.
 */
export class FeedRecorder {
  readonly messages: FeedMessage[] = [];
  /** Resolves when the socket closes, with the code the server sent. */
  readonly closed: Promise<Closed>;
  private wake: (() => void)[] = [];

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      this.messages.push(JSON.parse(raw.toString()));
      for (const wake of this.wake.splice(0)) wake();
    });
    this.closed = new Promise((done) =>
      socket.once('close', (code, reason) => {
        done({ code, reason: reason.toString(), after: this.messages.length });
        for (const wake of this.wake.splice(0)) wake();
      }),
    );
  }

  static async connect(wsUrl: string): Promise<FeedRecorder> {
    const socket = new WebSocket(`${wsUrl}/ws`);
    await new Promise<void>((done, fail) => {
      socket.once('open', () => done());
      socket.once('error', fail);
    });
    return new FeedRecorder(socket);
  }

  subscribe(jobId: string): void {
    this.socket.send(JSON.stringify({ event: 'subscribe', data: { jobId } }));
  }

  /** The first message that matches; fails after `ms`, or at once if the socket closed without one. */
  async waitFor(match: (message: FeedMessage) => boolean, ms = 20_000): Promise<FeedMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      const state = this.socket.readyState;
      if (left <= 0 || state === WebSocket.CLOSED) {
        throw new Error(`no matching message (socket ${state === WebSocket.CLOSED ? 'closed' : 'open'}); got ${this.messages.map((m) => m.event).join(', ')}`);
      }
      await new Promise<void>((done) => {
        const timer = setTimeout(done, left);
        this.wake.push(() => {
          clearTimeout(timer);
          done();
        });
      });
    }
  }

  terminate(): void {
    this.socket.terminate();
  }
}
