import type { AppConfig } from '../config/app-config';
import type { OpenApiPart } from '../openapi/openapi-registry';
import { badRequest, error, finishedWithinWait, idempotency, job, limited, unauthorized } from '../openapi/operations';
import { waitQuery } from '../jobs/jobs.schemas';
import { crawlRequestSchema, crawlResultSchema } from './crawl.schema';

/** POST /crawl in the OpenAPI document, with the configured limits. */
export function crawlOpenApi(config: AppConfig): OpenApiPart {
  return {
    schemas: { CrawlResult: crawlResultSchema },
    resultSchema: 'CrawlResult',
    operations: {
      'POST /crawl': {
        tag: 'crawl',
        summary: 'Crawl a site: fetch pages and extract their links, in parallel',
        description:
          'Breadth-first from the seed URLs within scope, depth and page limits, politely (robots.txt, per-host concurrency and delay) and safely (never private, loopback or reserved addresses unless CRAWL_ALLOW_TARGETS allows them). Every page is one task; results are CrawlResult items in crawl order.',
        query: waitQuery(config.MAX_WAIT_MS),
        headers: [idempotency.header],
        body: {
          schema: crawlRequestSchema(config),
          examples: {
            small: { summary: 'one site, two levels deep', value: { urls: ['https://example.org/'], maxDepth: 2, maxPages: 100, scope: 'same-host' } },
            content: {
              summary: 'markdown of the main content, and two fields',
              value: {
                urls: ['https://example.org/docs/'],
                maxDepth: 1,
                maxPages: 50,
                formats: ['links', 'markdown'],
                onlyMainContent: true,
                select: { heading: { css: 'h1' }, description: { css: 'meta[name="description"]', attr: 'content' } },
              },
            },
            filtered: {
              summary: 'only the docs, no PDFs',
              value: { urls: ['https://example.org/docs/'], maxDepth: 3, maxPages: 500, include: ['^https://example\\.org/docs/'], exclude: ['\\.pdf$'], perHostConcurrency: 2, delayMs: 100 },
            },
          },
        },
        responses: {
          202: {
            description: 'accepted; follow Location',
            ref: 'Job',
            example: { ...job, kind: 'crawl', total: 0, summary: { pagesOk: 0, pagesFailed: 0, linksDiscovered: 0, bytesFetched: 0, queued: 0, discovered: 0 } },
          },
          200: finishedWithinWait,
          400: {
            ...badRequest,
            example: error(400, 'Bad Request', 'urls.0: must be http or https, not file:', { issues: [{ field: 'urls.0', rule: 'custom', message: 'must be http or https, not file:' }] }),
          },
          401: unauthorized,
          413: { description: 'body over BODY_LIMIT_BYTES', ref: 'Error' },
          415: { description: 'body is not application/json', ref: 'Error' },
          ...idempotency.responses,
          429: limited,
          503: { description: 'queue full or shutting down; see Retry-After', ref: 'Error' },
        },
      },
    },
  };
}
