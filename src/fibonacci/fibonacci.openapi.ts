import type { AppConfig } from '../config/app-config';
import type { OpenApiPart } from '../openapi/openapi-registry';
import { badRequest, done, error, finishedWithinWait, idempotency, job, limited, page, unauthorized } from '../openapi/operations';
import { waitQuery } from '../jobs/jobs.schemas';
import { fibonacciRequestSchema, fibonacciResultSchema } from './fibonacci.schema';

/** POST /fibonacci in the OpenAPI document, with the configured limits. */
export function fibonacciOpenApi(config: AppConfig): OpenApiPart {
  const body = fibonacciRequestSchema({ maxN: config.FIB_MAX_N, maxNumbers: config.FIB_MAX_NUMBERS, maxResultBytes: config.FIB_MAX_RESULT_BYTES });
  return {
    schemas: { FibonacciResult: fibonacciResultSchema },
    resultSchema: 'FibonacciResult',
    operations: {
      'POST /fibonacci': {
        tag: 'fibonacci',
        summary: 'Submit a batch of Fibonacci numbers',
        description:
          'Exact F(n) for every n, computed in parallel. Answers 202 with the job (and `Location: /jobs/{id}`), or 200 with the finished job and its first page of results if it finishes within `?wait=` ms.',
        query: waitQuery(config.MAX_WAIT_MS),
        headers: [idempotency.header],
        body: {
          schema: body,
          examples: {
            numbers: { summary: 'a list of n', value: { numbers: [0, 1, 90, 1000, 1000000] } },
            range: { summary: 'every n in a range', value: { range: { from: 1, to: 1000 } } },
          },
        },
        responses: {
          202: { description: 'accepted; follow Location', ref: 'Job', example: job },
          200: { ...finishedWithinWait, example: { ...done, results: page } },
          400: badRequest,
          401: unauthorized,
          413: { description: 'body over BODY_LIMIT_BYTES', ref: 'Error', example: error(413, 'Payload Too Large', 'request body exceeds BODY_LIMIT_BYTES (1048576 bytes)') },
          415: { description: 'body is not application/json', ref: 'Error', example: error(415, 'Unsupported Media Type', 'request body must be application/json') },
          ...idempotency.responses,
          429: limited,
          503: { description: 'queue full or shutting down; see Retry-After', ref: 'Error', example: error(503, 'Service Unavailable', 'the work queue is full') },
        },
      },
    },
  };
}
