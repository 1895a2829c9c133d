import { HttpException } from '@nestjs/common';

/** A refusal the client should retry later (429, 503); the error filter adds Retry-After. */
export class RetryableException extends HttpException {
  constructor(
    status: 429 | 503,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super({ message }, status);
  }
}
