import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import proxyaddr from 'proxy-addr';
import { errorBody } from './error-envelope';
import { requestIdOf } from './request-id';

export type TrustProxy = (address: string, hop: number) => boolean;

/**
 * Which hops may say who the client is (X-Forwarded-For): TRUST_PROXY's addresses, CIDRs or
 * names (`loopback`, `linklocal`, `uniquelocal`). Empty: nobody, the socket's peer is the client.
 * Behind a load balancer, naming it (only it) here makes the per-address limits count real
 * clients instead of the balancer.
 */
export function trustProxy(entries: readonly string[]): TrustProxy {
  return entries.length === 0 ? () => false : proxyaddr.compile([...entries]);
}

/**
 * The client's address, as Express's `req.ip` gives it with the same trust: the socket's peer,
 * or, while that peer and the hops before it are trusted, the next X-Forwarded-For entry from the
 * right. Undefined when the entry it lands on is not an IP address: a trusted proxy wrote
 * something else there, and taking it would let any string be an address (its own limits each).
 * Entries left of the first untrusted hop are never read, so nothing a client prepends counts.
 */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string | undefined {
  const address = proxyaddr(req, trust) ?? req.socket.remoteAddress;
  return address !== undefined && isIP(address) !== 0 ? address : undefined;
}

/** What a refused request is told: the header, and what it held (cut short). */
export function badForwardedFor(req: IncomingMessage): string {
  const given = String(req.headers['x-forwarded-for'] ?? '');
  return `X-Forwarded-For: the client address a trusted proxy gave is not an IP address (${JSON.stringify(given.length > 64 ? `${given.slice(0, 64)}…` : given)})`;
}

/**
 * Refuses (400, the one error envelope) a request whose client address, read through the trusted
 * proxies, is not an IP address. Runs before any limit counts by address.
 */
export function forwardedForCheck(trust: TrustProxy) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (clientAddress(req, trust) !== undefined) return next();
    res.status(400).json({ ...errorBody(400, badForwardedFor(req)), requestId: requestIdOf(req) });
  };
}
