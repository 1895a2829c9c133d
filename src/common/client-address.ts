import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

export type TrustProxy = (address: string, hop: number) => boolean;

/**
 * Which hops may say who the client is (X-Forwarded-For): TRUST_PROXY's addresses, CIDRs or
 * names (`loopback`, `linklocal`, `uniquelocal`). Empty: nobody, the socket's peer is the client.
 * Behind a load balancer, naming it here makes the per-address limits count real clients instead
 * of the balancer.
 */
export function trustProxy(entries: readonly string[]): TrustProxy {
  return entries.length === 0 ? () => false : proxyaddr.compile([...entries]);
}

/** The client's address, as Express's `req.ip` gives it with the same trust (for WebSocket upgrades). */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string {
  return proxyaddr(req, trust) ?? req.socket.remoteAddress ?? 'unknown';
}
