import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP listener that must never be reached: on 127.0.0.1 and, when it can, on [::1] with the same
 * port. It counts at the 'connection' event (before any request is read), answers a minimal HTTP
 * response and hangs up, so a crawler that wrongly connects fails visibly rather than hanging.
 */
export interface Canary {
  port: number;
  /** http://127.0.0.1:<port>/ */
  url: string;
  /** Connections accepted, on any of its addresses, since start. */
  readonly connections: number;
  /** Where each connection came in (local address) and when. */
  readonly log: { address: string; at: number }[];
  close(): Promise<void>;
}

export async function startCanary(): Promise<Canary> {
  const log: { address: string; at: number }[] = [];
  const onConnection = (socket: net.Socket) => {
    log.push({ address: socket.localAddress ?? '?', at: Date.now() });
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 418 I am a canary\r\ncontent-type: text/plain\r\ncontent-length: 6\r\nconnection: close\r\n\r\ncanary');
  };
  const servers = [net.createServer(onConnection)];
  await new Promise<void>((resolve, reject) => {
    servers[0].once('error', reject);
    servers[0].listen(0, '127.0.0.1', () => resolve());
  });
  const port = (servers[0].address() as AddressInfo).port;
  const v6 = net.createServer(onConnection);
  const v6Up = await new Promise<boolean>((resolve) => {
    v6.once('error', () => resolve(false));
    v6.listen(port, '::1', () => resolve(true));
  });
  if (v6Up) servers.push(v6);
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    get connections() {
      return log.length;
    },
    log,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
