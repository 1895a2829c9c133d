import WebSocket from 'ws';

export interface Message {
  event: string;
  data: any;
}

let barriers = 0;

/** A plain WebSocket client that records every message, with waits for the ones a test needs. */
export class FeedClient {
  readonly messages: Message[] = [];
  /** Bytes of every message received. */
  bytes = 0;
  /** Pings received from the server (heartbeat). */
  pings = 0;
  /** Resolves with the close code when the socket closes. */
  readonly closed: Promise<number>;
  private waiters: (() => void)[] = [];

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (raw: Buffer) => {
      this.bytes += raw.length;
      this.messages.push(JSON.parse(raw.toString()));
      this.wake();
    });
    socket.on('ping', () => {
      this.pings++;
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', (code) => {
        resolve(code);
        this.wake();
      }),
    );
  }

  static async connect(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<FeedClient> {
    const socket = new WebSocket(`${url}/ws`, protocols, options);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new FeedClient(socket);
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** A WebSocket ping frame (the server's ws answers it by itself). */
  ping(): void {
    this.socket.ping();
  }

  subscribe(jobId: string): void {
    this.send({ event: 'subscribe', data: { jobId } });
  }

  /**
   * Resolves once the server has handled every message sent before it: the server handles a
   * connection's messages in order, and answers a subscribe to an unknown job with an error.
   * Returns the index of that answer, so a test can look at what came before it.
   */
  async barrier(): Promise<number> {
    const jobId = `barrier-${++barriers}`;
    this.subscribe(jobId);
    const answer = await this.waitFor((m) => m.event === 'error' && m.data?.jobId === jobId);
    return this.messages.indexOf(answer);
  }

  /** Messages up to (not including) the barrier answer at `index`, without earlier barrier answers. */
  before(index: number): Message[] {
    return this.messages.slice(0, index).filter((m) => !(m.event === 'error' && String(m.data?.jobId).startsWith('barrier-')));
  }

  /** Resolves with the first recorded message (from `from` on) that matches. */
  async waitFor(match: (m: Message) => boolean, from = 0, ms = 20_000): Promise<Message> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message; got ${this.messages.map((m) => m.event).join(', ')}`);
      await this.sleepUntilWoken(left);
    }
  }

  /** Resolves once `check` holds (re-checked on every message, ping and close). */
  async until(check: () => boolean, ms = 20_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await this.sleepUntilWoken(left);
    }
  }

  close(): void {
    this.socket.close();
  }

  private sleepUntilWoken(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
