import { type CanActivate, type ExecutionContext, Injectable, SetMetadata, UnauthorizedException, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { RetryableException } from '../common/retryable.exception';
import { ApiKeys, bearerToken } from './api-keys';
import { AuthFailures } from './auth-failures';

const PUBLIC = 'auth:public';
/** Marks a route (health) as open even when API keys are on. */
export const Public = () => SetMetadata(PUBLIC, true);

export type AuthedRequest = Request & { owner?: string };

/** The owner id of the caller's key; undefined when API keys are off (everything is shared). */
export const Owner = createParamDecorator((_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<AuthedRequest>().owner);

/** Who is calling: the key's owner id, and the id per-caller limits count by (owner, else address). */
export const CallerOf = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  return { owner: req.owner, id: callerId(req) };
});

export function callerId(req: { owner?: string; ip?: string }): string {
  return req.owner ?? req.ip ?? 'unknown';
}

/**
 * Checks a bearer token against `keys`, counting failures per address: an address past
 * AUTH_FAILURES_MAX gets 429 + Retry-After (even with a good token) until its window ends.
 * Returns the owner id of the token.
 */
export async function authenticate(keys: ApiKeys, failures: AuthFailures, req: Request, res: Response, what: string): Promise<string> {
  const address = req.ip ?? 'unknown';
  // The token first (constant time), then one step on the count: see AuthFailures.
  const owner = keys.verify(bearerToken(req.header('authorization')));
  const wait = owner ? await failures.retryAfter(address) : await failures.fail(address);
  if (wait > 0) throw new RetryableException(429, failures.message, wait);
  if (!owner) {
    res.setHeader('WWW-Authenticate', 'Bearer');
    throw new UnauthorizedException(`${what} is required: Authorization: Bearer <${what === 'a valid API key' ? 'key' : 'token'}>`);
  }
  return owner;
}

/**
 * When API_KEYS is set, every route not marked @Public() needs `Authorization: Bearer <key>`.
 * It runs before the rate limiter (which counts per key), so failures have their own limit.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeys,
    private readonly failures: AuthFailures,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.keys.enabled || context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const http = context.switchToHttp();
    const req = http.getRequest<AuthedRequest>();
    req.owner = await authenticate(this.keys, this.failures, req, http.getResponse<Response>(), 'a valid API key');
    return true;
  }
}
