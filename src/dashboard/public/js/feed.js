// The progress feed: one WebSocket at /ws, reconnected with backoff, resubscribed on every open.

export class Feed {
  /**
   * @param {object} o
   * @param {() => string} o.key       current API key ('' when none)
   * @param {(msg: {event: string, data: any}) => void} o.onMessage
   * @param {(state: string, detail?: string) => void} o.onState  connecting | connected | reconnecting
   * @param {() => void} o.onOpen      the socket is open: subscribe and rebuild
   */
  constructor({ key, onMessage, onState, onOpen }) {
    Object.assign(this, { key, onMessage, onState, onOpen });
    this.socket = undefined;
    this.attempt = 0;
    this.timer = undefined;
    this.last = '';
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    if (!this.socket && !this.timer) this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'bye');
  }

  send(event, data) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ event, data }));
  }

  connect() {
    this.timer = undefined;
    if (this.stopped) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const key = this.key();
    this.onState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let socket;
    try {
      socket = key ? new WebSocket(url, ['bearer', key]) : new WebSocket(url);
    } catch {
      return this.retry();
    }
    this.socket = socket;
    this.last = '';
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.attempt = 0;
      this.onState('connected');
      this.onOpen();
    };
    socket.onmessage = (e) => {
      if (socket !== this.socket) return;
      // An event of a job we watch both by id and by `*` arrives twice, back to back, identical.
      if (e.data === this.last) return;
      this.last = e.data;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      this.onMessage(msg);
    };
    socket.onclose = () => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      this.retry();
    };
  }

  retry() {
    if (this.stopped || this.timer) return;
    // 0.5 s, 1 s, 2 s, ... up to 10 s, with jitter so that many tabs do not come back at once.
    const delay = Math.min(10_000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt++;
    this.onState('reconnecting', `retrying in ${(delay / 1000).toFixed(1)} s`);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
