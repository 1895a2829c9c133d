import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';
import { errorBodySchema } from '../common/error-envelope';
import type { AppConfig } from '../config/config.schema';
import { jobListSchema, jobSnapshotSchema, jobViewSchema } from '../jobs/job.view';
import { healthDownSchema, healthSchema, poolPanelSchema } from '../health/health.schemas';
import { finishedSubmissionSchema, listQuery, resultsPageSchema, resultsQuery } from '../jobs/jobs.schemas';
import { OpenApiRegistry } from './openapi-registry';
import { operations, type Operation } from './operations';

type SchemaObject = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string];

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
  const schemas: Record<string, z.ZodType> = {
    Job: jobViewSchema,
    JobWithResults: finishedSubmissionSchema,
    JobList: jobListSchema,
    JobSnapshot: jobSnapshotSchema,
    ResultsPage: resultsPageSchema,
    Error: errorBodySchema,
    Pool: poolPanelSchema,
    Health: healthSchema,
    HealthDown: healthDownSchema,
  };
  for (const part of parts) Object.assign(schemas, part.schemas);
  const resultSchemas = parts.flatMap((part) => (part.resultSchema ? [part.resultSchema] : []));
  document.components = { ...document.components, schemas: withResultItems(componentSchemas(schemas), resultSchemas) };
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

const internal = { description: 'an internal failure (the store answered with an error, say): generic words and the requestId under which the log has the cause', ref: 'Error' };
const outage = { description: 'the job store (Redis, in cluster mode) is out of reach; retry after Retry-After', ref: 'Error' };
const rateLimited = { description: 'over RATE_LIMIT_MAX requests in RATE_LIMIT_WINDOW_MS from this caller; see Retry-After', ref: 'Error' };
const rateOrAuth = { description: 'over the rate limit (RATE_LIMIT_MAX), or too many failed authentications from this address (AUTH_FAILURES_MAX); see Retry-After', ref: 'Error' };

function media({ ref, example }: { ref?: string; example?: unknown }) {
  return { ...(ref ? { schema: { $ref: `#/components/schemas/${ref}` } } : {}), ...(example !== undefined ? { example } : {}) };
}

function mapValues<T, U>(record: Record<string, T>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}

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
  // Every non-public route is rate limited (RATE_LIMIT_MAX) and, with keys on, shares the
  // failed-authentication limit of its caller's address.
  const limits: Operation['responses'] = op.public || op.responses[429] ? op.responses : { ...op.responses, 429: keysOn ? rateOrAuth : rateLimited };
  // Any route past the probes can find the store out of reach (cluster mode): the global filter's 503.
  // and any can meet an internal failure: 500 in generic words, with the requestId the log has.
  const all = op.public ? limits : { 500: internal, 503: outage, ...limits };
  const responses = Object.fromEntries(
    Object.entries(all).map(([status, r]) => [
      status,
      {
        description: r.description,
        ...(r.ref || r.example !== undefined ? { content: { [r.contentType ?? 'application/json']: media(r), ...mapValues(r.alsoAs ?? {}, media) } } : {}),
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

/**
 * The component schemas. zod names a schema that has a `meta({ id })` through `$ref: '#/definitions/<id>'`
 * with the definitions beside it, which means nothing in an OpenAPI document: lift every definition into
 * components and point the references there (a Job inside a page of jobs is then `#/components/schemas/Job`).
 */
function componentSchemas(schemas: Record<string, z.ZodType>): Record<string, SchemaObject> {
  const components: Record<string, SchemaObject> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { definitions = {}, ...json } = toSchema(schema, 'output') as { definitions?: Record<string, SchemaObject>; $ref?: string };
    Object.assign(components, definitions);
    if (json.$ref !== `#/definitions/${id}`) components[id] = json as SchemaObject;
  }
  return JSON.parse(JSON.stringify(components).replaceAll('"#/definitions/', '"#/components/schemas/'));
}

/**
 * A result item is one of the registered kinds' result schemas (ResultItem, also each NDJSON line of
 * an export); a ResultsPage lists them. zod knows the page's items only as objects, the kinds come later.
 */
function withResultItems(components: Record<string, SchemaObject>, resultSchemas: string[]): Record<string, SchemaObject> {
  const anyOf = resultSchemas.map((id) => ({ $ref: `#/components/schemas/${id}` }));
  const page = components.ResultsPage as { properties: { items: SchemaObject } };
  return {
    ...components,
    ResultItem: { description: `one result, by the job's kind: ${resultSchemas.join(' or ')}`, anyOf },
    ResultsPage: { ...components.ResultsPage, properties: { ...page.properties, items: { ...page.properties.items, items: { $ref: '#/components/schemas/ResultItem' } } } },
  };
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _s, id: _id, ...json } = z.toJSONSchema(schema, { io, target: 'openapi-3.0', unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}
