import { Global, Injectable, Module } from '@nestjs/common';
import type { z } from 'zod';
import type { Operation } from './operations';

/** What a job kind adds to the OpenAPI document: its routes' operations and its schemas. */
export interface OpenApiPart {
  /** Keyed `METHOD /path` as Nest's scan names the kind's routes. */
  operations: Record<string, Operation>;
  /** Component schemas (output), by name. */
  schemas?: Record<string, z.ZodType>;
  /** The component schema of one result item of the kind's jobs, listed by GET /jobs/{id}/results. */
  resultSchema?: string;
}

/** Every job kind's part of the OpenAPI document; the document builder lists what is here. */
@Injectable()
export class OpenApiRegistry {
  private readonly parts: OpenApiPart[] = [];

  add(part: OpenApiPart): void {
    this.parts.push(part);
  }

  all(): readonly OpenApiPart[] {
    return this.parts;
  }
}

@Global()
@Module({ providers: [OpenApiRegistry], exports: [OpenApiRegistry] })
export class OpenApiModule {}
