/**
 * An undici Agent that refuses to connect anywhere the address policy forbids. The check runs
 * at connect time on the address actually dialled: every address a name resolves to is checked
 * (one bad answer rejects the name), IP literals (which skip DNS) are checked directly, and the
 * socket connects to the address that was checked, so redirects and DNS rebinding cannot get
 * around it.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { isAllowedAddress, type Cidr } from './address-policy';

export class BlockedAddressError extends Error {
  readonly code = 'blocked_address';
  constructor(readonly target: string) {
    super(`connection to ${target} is not allowed (private, loopback or reserved address)`);
  }
}

export function safeLookup(allow: readonly Cidr[]): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const blocked = addresses.find(({ address }) => !isAllowedAddress(address, allow));
      if (blocked || addresses.length === 0) return callback(new BlockedAddressError(`${hostname} (${blocked?.address ?? 'no address'})`), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

export function createSafeAgent(allow: readonly Cidr[], options: { connections?: number } = {}): Agent {
  const connector = buildConnector({ lookup: safeLookup(allow) } as buildConnector.BuildOptions);
  return new Agent({
    connections: options.connections ?? 16,
    keepAliveTimeout: 10_000,
    connect: (opts, callback) => {
      const host = opts.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) && !isAllowedAddress(host, allow)) {
        return callback(new BlockedAddressError(host), null);
      }
      return connector(opts, callback);
    },
  });
}
