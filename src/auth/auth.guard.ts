import { type CanActivate, type ExecutionContext, Injectable, SetMetadata, UnauthorizedException, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiKeys, bearerToken } from './api-keys';

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

/** When API_KEYS is set, every route not marked @Public() needs `Authorization: Bearer <key>`. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeys,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.keys.enabled || context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const owner = this.keys.verify(bearerToken(req.header('authorization')));
    if (!owner) {
      context.switchToHttp().getResponse().setHeader('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedException('a valid API key is required: Authorization: Bearer <key>');
    }
    req.owner = owner;
    return true;
  }
}
