import { Webhook } from 'standardwebhooks';
import { type Dispatcher, request } from 'undici';
import { findCause, retryAfterMs } from '../crawl/fetch-page';
import type { WebhookDelivery } from './webhook-outbox';

/** How one attempt ended. `status`: the HTTP status, or what stopped the attempt. */
export interface AttemptResult {
  ok: boolean;
  status: number | 'timeout' | 'redirect' | 'blocked_address' | 'connect_error' | 'network_error';
  error?: string;
  /** A 429 or 503's Retry-After, in ms. */
  retryAfterMs?: number;
  /** Stopped by this instance's shutdown, not by the receiver: due again at once, for another instance. */
  interrupted?: boolean;
}

export interface SendOptions {
  agent: Dispatcher;
  timeoutMs: number;
  /** Longest Retry-After honoured. */
  maxDelayMs: number;
  userAgent: string;
  /** Aborted when this instance shuts down: the attempt stops at once. */
  stop: AbortSignal;
}

/** Bytes of a response read at most: the answer is not used, so a huge one costs no more than this. */
const MAX_RESPONSE_BYTES = 4 * 1024;
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

/**
 * One attempt: a POST of the stored payload, signed now (Standard Webhooks: `webhook-id`,
 * `webhook-timestamp`, `webhook-signature`), through the address-checked agent, within one
 * deadline for connecting, answering and the (small) read; redirects are never followed.
 */
export async function sendAttempt(delivery: WebhookDelivery, options: SendOptions): Promise<AttemptResult> {
  const now = new Date();
  const headers = {
    'content-type': 'application/json',
    'user-agent': options.userAgent,
    'webhook-id': delivery.id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(delivery.secret).sign(delivery.id, now, delivery.payload),
  };
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([deadline, options.stop]);
  try {
    const response = await request(delivery.url, {
      method: 'POST',
      headers,
      body: delivery.payload,
      dispatcher: options.agent,
      signal,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    await readAtMost(response.body, MAX_RESPONSE_BYTES);
    const status = response.statusCode;
    if (status >= 200 && status < 300) return { ok: true, status };
    if (status >= 300 && status < 400) return { ok: false, status: 'redirect', error: `HTTP ${status}: redirects are not followed` };
    const retryAfter = status === 429 || status === 503 ? retryAfterMs(header(response.headers['retry-after']), options.maxDelayMs) : undefined;
    return { ok: false, status, error: `HTTP ${status}`, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) };
  } catch (err) {
    if (options.stop.aborted) return { ok: false, status: 'network_error', error: 'interrupted: the sending instance shut down', interrupted: true };
    return failure(err, deadline, options.timeoutMs);
  }
}

/** Reads up to `max` bytes of a body, then drops the connection rather than draining the rest. */
async function readAtMost(body: Dispatcher.ResponseData['body'], max: number): Promise<void> {
  let read = 0;
  try {
    for await (const chunk of body) {
      read += (chunk as Buffer).length;
      if (read >= max) break;
    }
  } finally {
    if (!body.readableEnded) {
      body.on('error', () => {});
      body.destroy();
    }
  }
}

function failure(err: unknown, deadline: AbortSignal, timeoutMs: number): AttemptResult {
  const blocked = findCause(err, (e) => (e as { code?: string }).code === 'blocked_address');
  if (blocked) return { ok: false, status: 'blocked_address', error: (blocked as Error).message };
  if (deadline.aborted) return { ok: false, status: 'timeout', error: `no answer within WEBHOOK_TIMEOUT_MS (${timeoutMs} ms)` };
  const code = (findCause(err, (e) => typeof (e as { code?: unknown }).code === 'string') as { code?: string } | undefined)?.code;
  const message = `${code ? `${code}: ` : ''}${err instanceof Error ? err.message : String(err)}`.slice(0, 300);
  return { ok: false, status: code && CONNECT_CODES.has(code) ? 'connect_error' : 'network_error', error: message };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
