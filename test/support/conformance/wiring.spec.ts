import { createServer, type Server } from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainProblems } from './setup';

// A stand-in service: it sets X-Request-Id like the real one, serves a small document at /docs-json,
// and answers /jobs/<id> off the document on purpose (an extra field, an undocumented status, bad NDJSON).
const doc = {
  paths: {
    '/jobs/{id}': {
      get: {
        responses: {
          200: {
            content: {
              'application/json': { schema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false } },
              'application/x-ndjson': { schema: { type: 'object', properties: { index: { type: 'integer' } }, required: ['index'] } },
            },
          },
        },
      },
    },
  },
};

describe('the conformance check is wired into fetch and supertest', () => {
  let server: Server;
  let url: string;
  let fixtureUrl: string;
  let fixture: Server;

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.setHeader('X-Request-Id', 'test');
      const [path, query] = (req.url ?? '').split('?');
      if (path === '/docs-json') return void res.setHeader('Content-Type', 'application/json').end(JSON.stringify(doc));
      if (query === 'status=409') return void res.writeHead(409, { 'Content-Type': 'application/json' }).end('{"statusCode":409}');
      if (query === 'ndjson') return void res.setHeader('Content-Type', 'application/x-ndjson').end('{"index":0}\n{"index":"one"}\n');
      res.setHeader('Content-Type', 'application/json').end(JSON.stringify(query === 'extra' ? { id: 'a', secret: 'x' } : { id: 'a' }));
    });
    // Not the service (no X-Request-Id): never checked, and its /docs-json never asked for.
    fixture = createServer((req, res) => res.writeHead(req.url === '/docs-json' ? 500 : 200, { 'Content-Type': 'application/json' }).end('{"anything":1}'));
    for (const s of [server, fixture]) await new Promise<void>((ready) => s.listen(0, '127.0.0.1', ready));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    fixtureUrl = `http://127.0.0.1:${(fixture.address() as { port: number }).port}`;
  });
  afterAll(() => Promise.all([server, fixture].map((s) => new Promise((done) => s.close(done)))));

  it('passes conforming responses and leaves other servers alone', async () => {
    expect((await (await fetch(`${url}/jobs/1`)).json()).id).toBe('a');
    await request(url).get('/jobs/1').expect(200);
    await (await fetch(`${fixtureUrl}/jobs/1`)).text();
    expect(await drainProblems()).toEqual([]);
  });

  it('reports an undocumented field, status and NDJSON line, whichever client read them', async () => {
    await (await fetch(`${url}/jobs/1?extra`)).text();
    await request(url).get('/jobs/2?status=409');
    expect(await (await fetch(`${url}/jobs/3?ndjson`)).text()).toBe('{"index":0}\n{"index":"one"}\n');
    const problems = await drainProblems();
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^GET \/jobs\/\{id\} 200: .*undocumented field "secret"/),
        expect.stringMatching(/^GET \/jobs\/\{id\} answered 409, an undocumented status \(documented: 200\)/),
        expect.stringMatching(/^GET \/jobs\/\{id\} 200 application\/x-ndjson: line 2 .*\/index: must be integer/),
      ]),
    );
  });
});
