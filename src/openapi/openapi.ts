import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';
import { errorBodySchema } from '../common/error-envelope';
import type { AppConfig } from '../config/config.schema';
import { jobListSchema, jobSnapshotSchema, jobViewSchema } from '../jobs/job.view';
import { listQuery, resultsPageSchema, resultsQuery } from '../jobs/jobs.schemas';
import { OpenApiRegistry } from './openapi-registry';
import { operations, type Operation } from './operations';

/**
 * The OpenAPI document, built from the zod schemas that validate requests (one source of truth)
 * with the configured limits, plus Nest's own route scan so that no route is left out.
 */
export function buildOpenApi(app: INestApplication, config: AppConfig): OpenAPIObject {
  const base = new DocumentBuilder()
    .setTitle('Parallel compute service')
    .setDescription(
      'Batches of work (Fibonacci numbers, web crawls, and any other registered job kind) run in parallel on worker-thread pools. Every request is a job of tasks; ' +
        'watch it over WebSocket at `/ws` (`{"event":"subscribe","data":{"jobId":"<id>"}}`) or SSE at `/jobs/{id}/events`, ' +
        'read results as JSON, cancel with DELETE.',
    )
    .setVersion('1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'needed when the service runs with API_KEYS' })
    .build();
  const document = SwaggerModule.createDocument(app, base);
  // The core's schemas and routes, then whatever each registered job kind adds.
  const parts = app.get(OpenApiRegistry).all();
  const schemas: Record<string, z.ZodType> = { Job: jobViewSchema, JobList: jobListSchema, JobSnapshot: jobSnapshotSchema, ResultsPage: resultsPageSchema, Error: errorBodySchema };
  for (const part of parts) Object.assign(schemas, part.schemas);
  document.components = { ...document.components, schemas: Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, toSchema(schema, 'output')])) };
  const resultSchemas = parts.flatMap((part) => (part.resultSchema ? [part.resultSchema] : []));
  const table: Record<string, Operation> = Object.assign(operations({ listQuery, resultsQuery }, resultSchemas), ...parts.map((part) => part.operations));
  for (const [key, operation] of Object.entries(table)) {
    const [method, path] = key.split(' ');
    const target = document.paths[path]?.[method.toLowerCase() as 'get'];
    if (!target) throw new Error(`OpenAPI table names ${key}, which is not a route`);
    Object.assign(target, render(operation, Boolean(config.API_KEYS.length)));
  }
  return document;
}

/** Serves Swagger UI at /docs and the document at /docs-json. */
export function setupOpenApi(app: INestApplication, config: AppConfig): void {
  SwaggerModule.setup('docs', app, buildOpenApi(app, config), { jsonDocumentUrl: 'docs-json' });
}

const failedAuth = { description: 'too many failed authentications from this address (AUTH_FAILURES_MAX); see Retry-After', ref: 'Error' };

function render(op: Operation, keysOn: boolean) {
  const parameters = [
    ...(op.pathParams ?? []).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } })),
    ...(op.headers ?? []).map(({ name, description, schema }) => ({ name, in: 'header', required: false, description, schema })),
    ...Object.entries((op.query ? toSchema(op.query, 'input').properties : {}) as Record<string, object>).map(([name, schema]) => ({
      name,
      in: 'query',
      required: false,
      schema,
    })),
  ];
  // Every keyed route shares the failed-authentication limit of its caller's address.
  const all = op.public || !keysOn || op.responses[429] ? op.responses : { ...op.responses, 429: failedAuth };
  const responses = Object.fromEntries(
    Object.entries(all).map(([status, r]) => [
      status,
      {
        description: r.description,
        ...(r.ref || r.example !== undefined
          ? {
              content: {
                [r.contentType ?? 'application/json']: { ...(r.ref ? { schema: { $ref: `#/components/schemas/${r.ref}` } } : {}), ...(r.example !== undefined ? { example: r.example } : {}) },
              },
            }
          : {}),
      },
    ]),
  );
  return {
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    parameters,
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(op.body.schema, 'input'), examples: op.body.examples } } } } : {}),
    responses,
    security: op.public || !keysOn ? [] : [{ bearer: [] }],
  };
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _s, id: _id, ...json } = z.toJSONSchema(schema, { io, target: 'openapi-3.0', unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}
