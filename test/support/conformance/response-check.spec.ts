import { describe, expect, it } from 'vitest';
import { compile } from './openapi-document';
import { check } from './response-check';

// A small document in the shape the service serves (OpenAPI 3.0: nullable, $ref to components).
const doc = compile(
  JSON.stringify({
    paths: {
      '/jobs/{id}': {
        get: {
          responses: {
            200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Job' } } } },
            404: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
          },
        },
      },
      '/jobs/{id}/results': {
        get: {
          responses: {
            200: {
              content: {
                'application/json': { schema: { type: 'object' } },
                'application/x-ndjson': { schema: { $ref: '#/components/schemas/Item' } },
                'text/csv': {},
              },
            },
          },
        },
      },
      '/jobs/{id}/events': { get: { responses: { 200: { content: { 'text/event-stream': {} } } } } },
      '/untyped': { get: { responses: { 200: { content: { 'application/json': {} } }, 204: { description: 'nothing' } } } },
    },
    components: {
      schemas: {
        Job: {
          type: 'object',
          properties: { id: { type: 'string', format: 'uuid' }, finishedAt: { type: 'string', format: 'date-time', nullable: true }, total: { type: 'integer', minimum: 0, exclusiveMinimum: true } },
          required: ['id', 'finishedAt'],
          additionalProperties: false,
        },
        Item: { type: 'object', properties: { index: { type: 'integer' } }, required: ['index'] },
        Error: { type: 'object', properties: { statusCode: { type: 'integer' } }, required: ['statusCode'] },
      },
    },
  }),
);
const ID = '3f1c2a5e-8a4b-4c1d-9e7f-0123456789ab';
const url = (path: string) => `http://127.0.0.1:1${path}`;
const json = 'application/json; charset=utf-8';
const problems = (method: string, path: string, status: number, contentType: string | undefined, text?: string) => check(doc, { method, url: url(path), status, contentType, text }).problems;

describe('response check against an OpenAPI document', () => {
  it('passes a documented response (nullable, date-time, uuid)', () => {
    expect(problems('GET', `/jobs/${ID}`, 200, json, JSON.stringify({ id: ID, finishedAt: null, total: 3 }))).toEqual([]);
    expect(problems('GET', `/jobs/${ID}`, 200, json, JSON.stringify({ id: ID, finishedAt: '2026-01-01T00:00:00.000Z' }))).toEqual([]);
  });

  it('names an undocumented field, a wrong type and the path of the error', () => {
    const [extra] = problems('GET', `/jobs/${ID}`, 200, json, JSON.stringify({ id: ID, finishedAt: null, rate: 2 }));
    expect(extra).toMatch(/^GET \/jobs\/\{id\} 200: .*undocumented field "rate"/);
    const [wrong] = problems('GET', `/jobs/${ID}`, 200, json, JSON.stringify({ id: 'x', finishedAt: 5, total: 0 }));
    expect(wrong).toMatch(/\/id: must match format "uuid"/);
    expect(wrong).toMatch(/\/finishedAt: must be string,null/);
    expect(wrong).toMatch(/\/total: must be > 0/);
  });

  it('fails an undocumented status, content type, route or method', () => {
    expect(problems('GET', `/jobs/${ID}`, 409, json, '{}')[0]).toMatch(/GET \/jobs\/\{id\} answered 409, an undocumented status \(documented: 200, 404\)/);
    expect(problems('GET', `/jobs/${ID}`, 200, 'text/html', '<p>')[0]).toMatch(/Content-Type text\/html, but the document lists application\/json/);
    expect(problems('GET', '/jobs/x/webhooks', 200, json, '[]')[0]).toMatch(/no route of the OpenAPI document matches the path/);
    expect(problems('DELETE', `/jobs/${ID}/events`, 200, json, '{}')[0]).toMatch(/the document has no DELETE for \/jobs\/\{id\}\/events/);
    expect(problems('GET', '/untyped', 200, json, '{}')[0]).toMatch(/gives no schema for the body/);
    expect(problems('GET', '/untyped', 204, json, '{"a":1}')[0]).toMatch(/the document says it has none/);
    expect(problems('GET', '/untyped', 204, undefined, '')).toEqual([]);
  });

  it('checks an unknown path only as the 404 error envelope', () => {
    expect(problems('GET', '/nowhere', 404, json, '{"statusCode":404}')).toEqual([]);
    expect(problems('GET', '/nowhere', 404, json, '{"oops":1}')[0]).toMatch(/statusCode/);
  });

  it('checks streams by content type, and NDJSON line by line', () => {
    expect(problems('GET', `/jobs/${ID}/events`, 200, 'text/event-stream')).toEqual([]);
    expect(problems('GET', `/jobs/${ID}/results`, 200, 'text/csv; charset=utf-8')).toEqual([]);
    const verdict = check(doc, { method: 'GET', url: url(`/jobs/${ID}/results`), status: 200, contentType: 'application/x-ndjson' });
    expect(verdict.line?.('{"index":0}')).toBeUndefined();
    expect(verdict.line?.('{"n":1}')).toMatch(/line 2 does not match the document's item schema: \(body\): must have required property 'index'/);
    expect(verdict.line?.('{"ind')).toMatch(/line 3 is not JSON/);
  });

  it('leaves alone only the listed non-API routes', () => {
    expect(problems('GET', '/', 200, 'text/html')).toEqual([]);
    expect(problems('GET', '/docs-json', 200, json, '{}')).toEqual([]);
    expect(problems('GET', '/index.html.bak', 200, 'text/html')[0]).toMatch(/no route/);
  });
});
