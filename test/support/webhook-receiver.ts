import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** A fresh Standard Webhooks secret (32 random bytes). */
export function newSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`;
}

export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  /** Webhook.verify's answer, or the error it threw. */
  verified: { ok: true; payload: any } | { ok: false; error: string };
  at: number;
}

/** What the receiver does with the nth request (1-based): answer, or leave it hanging. */
export type Behaviour = (n: number, req: IncomingMessage, res: ServerResponse) => void;

export const answer =
  (status: number, headers: Record<string, string> = {}): Behaviour =>
  (_n, _req, res) => {
    res.writeHead(status, headers).end('ok');
  };

/**
 * A real loopback receiver that verifies every request with the standardwebhooks package as it
 * is, records it, and answers as `behaviour` says.
 */
export async function startReceiver(secret: string, behaviour: Behaviour = answer(200)) {
  const received: ReceivedWebhook[] = [];
  let connections = 0;
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let verified: ReceivedWebhook['verified'];
      try {
        verified = { ok: true, payload: new Webhook(secret).verify(body, headers) };
      } catch (err) {
        verified = { ok: false, error: (err as Error).message };
      }
      received.push({ headers, body, verified, at: Date.now() });
      for (const wake of waiters) wake();
      behaviour(received.length, req, res);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    get connections() {
      return connections;
    },
    /** Resolves once `count` requests arrived. */
    async waitFor(count: number, ms = 20_000): Promise<ReceivedWebhook[]> {
      const deadline = Date.now() + ms;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`receiver got ${received.length} of ${count} webhooks`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
          setTimeout(wake, 100).unref();
        });
      }
      return received.slice(0, count);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
