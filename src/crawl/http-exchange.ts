/**
 * One HTTP exchange of a fetch (one attempt at one hop), on undici's dispatcher API: the response
 * comes to a handler, the body chunk by chunk to a sink, with no body stream, async iterator or
 * combined abort signals per page. Those cost a crawl thread most of its fetching CPU on small
 * pages: fetching the PostgreSQL manual's 1,169 pages from nginx, 16 at once, took 310-390 ms of
 * CPU through request() and a for-await over its body, against 180-250 ms through a handler
 * (warm; cold: 760-820 against 480-580).
 *
 * What to do with the response is the caller's (fetch-page.ts): `decide` looks at the status and
 * headers and either settles the exchange without reading the body, or names the sink and the
 * content-encoding to undo. Reading stops at `maxBytes` of decoded bytes (the last chunk cut to
 * fit) or when the sink says so, and the connection is then dropped. A response settled at its
 * headers has its body read and dropped, up to DRAIN_MAX_BYTES, so its connection can be reused.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createBrotliDecompress, createGunzip, createInflate, type Gunzip } from 'node:zlib';
import type { Dispatcher } from 'undici';

/** Takes a response body as it arrives; false (or a promise of false) to stop reading. */
export interface BodySink {
  write(chunk: Buffer): boolean | Promise<boolean>;
}

export interface ExchangeRequest {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  maxBytes: number;
}

/** What to do with a response: settle now (the body is dropped), or read it into `sink`. */
export type ResponsePlan<T> = { settle: T } | { fail: Error } | { sink: BodySink; encoding: string | undefined; done(read: { bytes: number; cut?: 'maxBytes' }): T };

/**
 * A response that is not read (a redirect, an error status, not HTML) still has its body read and
 * dropped, up to this many bytes, after the exchange settled: the connection then serves the next
 * request instead of being closed and dialled again. A bigger or slower body drops the connection.
 */
const DRAIN_MAX_BYTES = 64 * 1024;

/** Why an exchange failed: `deadline` when timeoutMs ran out, `cancelled` when the caller's signal fired, `network` otherwise (undici's error is the cause). */
export class ExchangeError extends Error {
  constructor(
    readonly reason: 'deadline' | 'cancelled' | 'network',
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

const DECODERS: Record<string, () => Gunzip> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress as unknown as () => Gunzip,
};

/** Whether a Content-Encoding can be undone here (none and identity included). */
export function decodable(encoding: string | undefined): boolean {
  const coding = encoding?.trim().toLowerCase();
  return !coding || coding === 'identity' || coding in DECODERS;
}

/**
 * Runs one exchange. Rejects with what `decide` or the sink threw, or an ExchangeError
 * (deadline, cancelled, network: its cause is undici's error).
 */
export function exchange<T>(dispatcher: Dispatcher, request: ExchangeRequest, signal: AbortSignal | undefined, decide: (status: number, headers: IncomingHttpHeaders) => ResponsePlan<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => new Exchange(dispatcher, request, signal, decide, resolve, reject).start());
}

class Exchange<T> implements Dispatcher.DispatchHandler {
  private controller?: Dispatcher.DispatchController;
  private settled = false;
  private timer?: NodeJS.Timeout;
  private plan?: Extract<ResponsePlan<T>, { sink: BodySink }>;
  private inflate?: Gunzip;
  private total = 0;
  /** Chunks that arrived while the sink was busy with an earlier one, in order. */
  private pending: Buffer[] = [];
  private busy = false;
  private ended = false;
  /** Bytes of an unread body dropped since the exchange settled at its headers (undefined: not draining). */
  private drained?: number;
  private readonly onAbort = () => (this.drained === undefined ? this.stop(new ExchangeError('cancelled', this.signal?.reason)) : this.release(true));

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly request: ExchangeRequest,
    private readonly signal: AbortSignal | undefined,
    private readonly decide: (status: number, headers: IncomingHttpHeaders) => ResponsePlan<T>,
    private readonly resolve: (value: T) => void,
    private readonly reject: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.signal?.aborted) return this.reject(new ExchangeError('cancelled', this.signal.reason));
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    // The deadline covers the whole exchange, body included: a server trickling bytes still times out.
    this.timer = setTimeout(() => (this.drained === undefined ? this.stop(new ExchangeError('deadline', new Error('deadline'))) : this.release(true)), this.request.timeoutMs);
    try {
      const url = new URL(this.request.url);
      this.dispatcher.dispatch({ origin: url.origin, path: url.pathname + url.search, method: 'GET', headers: this.request.headers }, this);
    } catch (err) {
      this.stop(new ExchangeError('network', err));
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Stopped before undici handed over its controller (the deadline, a cancel): stop it now.
    if (this.settled) controller.abort(new Error('exchange over'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (this.settled) return;
    if (status < 200) return; // 1xx: the real answer follows
    let plan: ResponsePlan<T>;
    try {
      plan = this.decide(status, headers);
    } catch (err) {
      return this.stop(err);
    }
    if ('settle' in plan) return this.dropBody(() => this.resolve(plan.settle));
    if ('fail' in plan) return this.dropBody(() => this.reject(plan.fail));
    this.plan = plan;
    const coding = plan.encoding?.trim().toLowerCase();
    if (coding && coding !== 'identity') {
      const decoder = DECODERS[coding];
      if (!decoder) return this.stop(new Error(`unsupported content-encoding: ${coding}`)); // the caller checks decodable() first
      this.inflate = decoder();
      this.inflate.on('data', (chunk: Buffer) => this.take(chunk));
      this.inflate.on('end', () => this.sourceEnded());
      this.inflate.on('error', (err) => this.stop(new ExchangeError('network', err)));
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.drained !== undefined) {
      this.drained += chunk.length;
      if (this.drained > DRAIN_MAX_BYTES) this.release(true);
      return;
    }
    if (this.settled || !this.plan) return;
    if (this.inflate) this.inflate.write(chunk);
    else this.take(chunk);
  }

  onResponseEnd(): void {
    if (this.drained !== undefined) {
      this.ended = true;
      return this.release(false);
    }
    if (this.settled || !this.plan) return;
    if (this.inflate) this.inflate.end();
    else this.sourceEnded();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.drained !== undefined) return this.release(false);
    this.stop(new ExchangeError('network', err));
  }

  /** Settles at the headers, then reads and drops the body (DRAIN_MAX_BYTES) so the connection can be reused. */
  private dropBody(settle: () => void): void {
    this.settled = true;
    this.drained = 0;
    settle();
  }

  /** The dropped body is over (or too big, too slow, cancelled: `abort` drops the connection). */
  private release(abort: boolean): void {
    if (this.drained === undefined) return;
    this.drained = undefined;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    if (abort && this.controller && !this.controller.aborted) this.controller.abort(new Error('unread body dropped'));
  }

  /** A decoded chunk: to the sink now, or after the one it is busy with. */
  private take(chunk: Buffer): void {
    if (this.settled) return;
    if (this.busy) {
      this.pending.push(chunk);
      return;
    }
    const room = this.request.maxBytes - this.total;
    const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.total += piece.length;
    const cut = piece.length < chunk.length;
    let more: boolean | Promise<boolean>;
    try {
      more = piece.length === 0 || this.plan!.sink.write(piece);
    } catch (err) {
      return this.stop(err);
    }
    if (typeof more === 'boolean') return this.afterWrite(more, cut);
    // The sink is parsing (a big page, a piece at a time): hold the source until it is done.
    this.busy = true;
    this.controller?.pause();
    this.inflate?.pause();
    more.then(
      (wanted) => {
        this.busy = false;
        this.afterWrite(wanted, cut);
      },
      (err) => this.stop(err),
    );
  }

  private afterWrite(more: boolean, cut: boolean): void {
    if (this.settled) return;
    if (cut) return this.read({ bytes: this.total, cut: 'maxBytes' });
    if (!more) return this.read({ bytes: this.total });
    while (this.pending.length > 0 && !this.busy && !this.settled) this.take(this.pending.shift()!);
    if (this.busy || this.settled) return;
    if (this.ended) return this.read({ bytes: this.total });
    if (this.controller?.paused) this.controller.resume();
    if (this.inflate?.isPaused()) this.inflate.resume();
  }

  private sourceEnded(): void {
    this.ended = true;
    if (!this.busy && this.pending.length === 0) this.read({ bytes: this.total });
  }

  private read(result: { bytes: number; cut?: 'maxBytes' }): void {
    let value: T;
    try {
      value = this.plan!.done(result);
    } catch (err) {
      return this.stop(err);
    }
    this.finish(value);
  }

  private finish(value: T): void {
    if (this.settled) return;
    this.cleanUp();
    this.resolve(value);
  }

  private stop(err: unknown): void {
    if (this.settled) return;
    this.cleanUp();
    this.reject(err);
  }

  /** Settles: the timer and listener go, and an unfinished response's connection is dropped rather than drained. */
  private cleanUp(): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.pending = [];
    this.inflate?.destroy();
    if (this.controller && !this.controller.aborted && !this.ended) this.controller.abort(new Error('exchange over'));
  }
}
