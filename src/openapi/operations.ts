import type { z } from 'zod';

export interface Operation {
  summary: string;
  description?: string;
  tag: string;
  public?: boolean;
  pathParams?: string[];
  /** Request headers the operation reads (besides Authorization). */
  headers?: { name: string; description: string; schema: Record<string, unknown> }[];
  query?: z.ZodType;
  body?: { schema: z.ZodType; examples: Record<string, { summary: string; value: unknown }> };
  responses: Record<number, { description: string; ref?: string; example?: unknown; contentType?: string; alsoAs?: Record<string, { ref?: string; example?: unknown }> }>;
}

export const ID = '3f1c2a5e-8a4b-4c1d-9e7f-0123456789ab';
export const job = {
  id: ID,
  kind: 'fibonacci',
  status: 'queued',
  total: 5,
  completed: 0,
  failed: 0,
  cancelled: 0,
  createdAt: '2026-11-25T12:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  durationMs: null,
  rate: null,
  etaMs: null,
  links: { self: `/jobs/${ID}`, results: `/jobs/${ID}/results`, events: `/jobs/${ID}/events` },
};
export const done = { ...job, status: 'completed', completed: 5, startedAt: '2026-11-25T12:00:00.002Z', finishedAt: '2026-11-25T12:00:00.150Z', durationMs: 148, etaMs: 0 };
export const page = {
  jobId: ID,
  status: 'completed',
  total: 5,
  offset: 0,
  limit: 1000,
  format: 'decimal',
  items: [
    { index: 0, n: 0, state: 'completed', value: '0', digits: 1, ms: 0.01 },
    { index: 2, n: 90, state: 'completed', value: '2880067194370816120', digits: 19, ms: 0.01 },
  ],
  nextOffset: null,
};
export const error = (statusCode: number, error: string, message: string, extra = {}) => ({ statusCode, error, message, ...extra, requestId: 'b7e0c6f2-6a41-4c55-8d0e-1f2a3b4c5d6e' });
export const badRequest = {
  description: 'invalid input; `issues` names each field and rule',
  ref: 'Error',
  example: error(400, 'Bad Request', 'numbers.1: must be >= 0', { issues: [{ field: 'numbers.1', rule: 'too_small', message: 'must be >= 0' }] }),
};
export const notFound = { description: 'no such job (or it belongs to another API key)', ref: 'Error', example: error(404, 'Not Found', `job ${ID} not found`) };
export const unauthorized = {
  description: 'API keys are on and the request has no valid key',
  ref: 'Error',
  example: error(401, 'Unauthorized', 'a valid API key is required: Authorization: Bearer <key>'),
};
/** The Idempotency-Key header of the POSTs that create a job, and the answers it adds. */
export const idempotency = {
  header: {
    name: 'Idempotency-Key',
    description:
      'Makes the POST idempotent (IETF httpapi draft), per API key and across instances: the same key and body within IDEMPOTENCY_TTL_MS answer with the job the first request made (same id and status, header `Idempotent-Replayed: true`), without a second job.',
    schema: { type: 'string', minLength: 1, maxLength: 255 },
  },
  responses: {
    409: { description: 'a request with this Idempotency-Key is still being admitted; retry shortly', ref: 'Error' },
    422: {
      description: 'this Idempotency-Key was used with a different request body',
      ref: 'Error',
      example: error(422, 'Unprocessable Entity', 'header.idempotency-key: this Idempotency-Key was used with a different request body', {
        issues: [{ field: 'header.idempotency-key', rule: 'reused_with_other_body', message: 'this Idempotency-Key was used with a different request body' }],
      }),
    },
  },
};

/** The 200 of a submission that finished within `?wait`. */
export const finishedWithinWait = { description: 'finished within ?wait; includes `results` (first page)', ref: 'JobWithResults' };

export const limited = {
  description: 'rate limit, jobs-in-flight limit, or too many failed authentications from this address (AUTH_FAILURES_MAX); see Retry-After',
  ref: 'Error',
  example: error(429, 'Too Many Requests', 'rate limit exceeded'),
};

/**
 * The core's routes' documentation, keyed `METHOD /path` as Nest's scan names it; each job kind
 * adds its own (OpenApiRegistry). `resultSchemas`: the registered kinds' result item schemas.
 */
export function operations(schemas: { listQuery: z.ZodType; resultsQuery: z.ZodType }, resultSchemas: string[]): Record<string, Operation> {
  return {
    'GET /jobs': {
      tag: 'jobs',
      summary: "The caller's jobs, newest first: filtered by status, kind, labels and q, paged by cursor",
      description:
        "Every filter must hold (`label` repeats). `q` matches a prefix of the id or a part of the name, in either case. Page with `cursor` = the previous page's `nextCursor`, same filters; a cursor from other filters or another key is refused (400 `query.cursor`). Jobs created after the first page never shift later pages. With keys on, a caller sees its own jobs only.",
      query: schemas.listQuery,
      responses: {
        200: { description: 'a page of jobs', ref: 'JobList', example: { items: [done], nextCursor: null, limit: 50, total: 1 } },
        400: badRequest,
        401: unauthorized,
      },
    },
    'GET /jobs/{id}': {
      tag: 'jobs',
      summary: 'One job: status, counts, timestamps',
      pathParams: ['id'],
      responses: { 200: { description: 'the job', ref: 'Job', example: done }, 401: unauthorized, 404: notFound },
    },
    'DELETE /jobs/{id}': {
      tag: 'jobs',
      summary: 'Cancel a job',
      description: 'Queued tasks never run, running ones are stopped; results finished before stay readable. Answers once the tasks have stopped.',
      pathParams: ['id'],
      responses: {
        200: { description: 'the job, now cancelled (or as it was, if already finished)', ref: 'Job', example: { ...done, status: 'cancelled', reason: 'cancelled by request' } },
        401: unauthorized,
        404: notFound,
      },
    },
    'GET /jobs/{id}/results': {
      tag: 'jobs',
      summary: 'Results in input order, paged; or every result streamed as NDJSON or CSV',
      description: `Running jobs return what is done so far. Items: ${resultSchemas.join(' or ')}, by the job's kind. With \`Accept: application/x-ndjson\` (one item per line) or \`text/csv\` (a header row, then one row per item) every result from \`offset\` to the end is streamed without paging, memory bounded whatever the job's size; \`follow=true\` keeps the stream open while the job runs and ends it after the last result.`,
      pathParams: ['id'],
      query: schemas.resultsQuery,
      responses: {
        200: {
          description: 'a page of results (or, with an export Accept type, the stream)',
          ref: 'ResultsPage',
          example: page,
          // NDJSON: each line is one ResultItem; CSV: a header row, then one row per item.
          alsoAs: {
            'application/x-ndjson': { ref: 'ResultItem', example: '{"index":0,"n":0,"state":"completed","value":"0","digits":1,"ms":0.01}\n' },
            'text/csv': { example: 'index,n,state,value,digits,ms,error\n0,0,completed,0,1,0.01,\n' },
          },
        },
        400: badRequest,
        401: unauthorized,
        404: notFound,
        406: { description: 'text/csv for a job kind without a CSV export', ref: 'Error' },
      },
    },
    'GET /jobs/{id}/events': {
      tag: 'progress',
      summary: 'Progress as Server-Sent Events',
      description:
        'job.snapshot first, then task.progress (coalesced arrays of task updates), then one of job.completed | job.failed | job.cancelled, after which the stream ends. Each event carries `id: <seq>`; a reconnect with `Last-Event-ID` gets only later events, or a snapshot (with `resume`) when they cannot be replayed.',
      pathParams: ['id'],
      headers: [
        {
          name: 'Last-Event-ID',
          description: 'resume after this seq (the last `id:` received), as EventSource sends it on a reconnect',
          schema: { type: 'string', pattern: '^\\s*\\d{1,15}\\s*$' },
        },
      ],
      responses: {
        200: {
          description: 'an event stream',
          contentType: 'text/event-stream',
          example: 'event: job.snapshot\ndata: {...}\n\nevent: task.progress\ndata: {"jobId":"...","updates":[{"index":0,"n":90,"state":"completed","digits":19,"ms":0.01}]}\n\n',
        },
        400: { ...badRequest, description: 'a Last-Event-ID that is not a seq (`issues` names header.last-event-id)' },
        401: unauthorized,
        404: notFound,
        429: { description: 'over the feed connection caps (WS_MAX_CONNECTIONS_PER_KEY / _PER_ADDRESS, SSE and WebSocket together), or the rate limit; see Retry-After', ref: 'Error' },
      },
    },
    'GET /pool': {
      tag: 'health',
      summary: 'Worker pool figures: threads, tasks running and queued (the dashboard reads them)',
      description:
        'Needs an API key when API_KEYS is set. `status` is what /health/ready decides; `queuedTasks` counts unfinished tasks across all jobs (what MAX_QUEUED_TASKS bounds). ' +
        'The figures at the top level are those of the instance that answered; `instance` is its id (INSTANCE_ID; unset, `instance-` and 8 hex digits derived from its host name and process id, which no key is shown) and `instances` lists every live instance of the deployment (one in embedded mode; in cluster mode the others with their figures as of their last heartbeat, at most about 1 s old), the answering one first with `self: true`.',
      responses: {
        200: {
          description: 'the pool',
          ref: 'Pool',
          example: {
            status: 'up',
            threads: 4,
            maxThreads: 4,
            running: 1,
            queued: 0,
            utilization: 0.12,
            completed: 1830,
            retried: 0,
            queuedTasks: 12,
            instance: 'compute-1',
            instances: [
              {
                id: 'compute-1',
                startedAt: '2026-01-01T09:00:00.000Z',
                stats: { threads: 4, maxThreads: 4, running: 1, queued: 0, utilization: 0.12, completed: 1830, retried: 0 },
                self: true,
              },
            ],
          },
        },
        401: unauthorized,
        429: { ...limited, description: 'too many failed authentications from this address (AUTH_FAILURES_MAX); see Retry-After' },
      },
    },
    'GET /metrics': {
      tag: 'metrics',
      summary: 'Prometheus metrics of this instance (jobs, tasks, pool, WebSocket clients, HTTP, process)',
      description:
        'They cover every tenant, so an API key does not open them: with METRICS_TOKEN set, scrape with `Authorization: Bearer <METRICS_TOKEN>`; with API_KEYS set and no METRICS_TOKEN they are refused (403); with neither they are open.',
      responses: {
        200: { description: 'Prometheus text exposition format', contentType: 'text/plain', example: 'jobs_total{kind="fibonacci",status="completed"} 3\n' },
        401: {
          description: 'METRICS_TOKEN is set and the request does not carry it',
          ref: 'Error',
          example: error(401, 'Unauthorized', 'a valid METRICS_TOKEN is required: Authorization: Bearer <token>'),
        },
        403: {
          description: 'API_KEYS is set and METRICS_TOKEN is not',
          ref: 'Error',
          example: error(403, 'Forbidden', 'metrics are off: API_KEYS is set and METRICS_TOKEN is not (set it and scrape with Authorization: Bearer <METRICS_TOKEN>)'),
        },
      },
    },
    'GET /health/live': {
      tag: 'health',
      public: true,
      summary: 'Liveness: the process answers',
      responses: { 200: { description: 'alive', ref: 'Health', example: { status: 'ok', info: {}, error: {}, details: {} } } },
    },
    'GET /health/ready': {
      tag: 'health',
      public: true,
      summary: 'Readiness: the pool is up and the service is not shutting down',
      description: 'Status only, no figures (those are at GET /pool, behind a key).',
      responses: {
        200: { description: 'ready', ref: 'Health', example: { status: 'ok', info: { pool: { status: 'up' } }, error: {}, details: { pool: { status: 'up' } } } },
        503: {
          description: 'not ready, with the reason',
          ref: 'HealthDown',
          example: error(503, 'Service Unavailable', 'Service Unavailable Exception', { status: 'error', info: {}, details: { pool: { status: 'down', reason: 'shutting down' } } }),
        },
      },
    },
  };
}
