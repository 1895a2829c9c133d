import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/app';

interface ExpressLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

describe('OpenAPI', () => {
  let svc: RunningApp;
  let doc: { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };

  beforeAll(async () => {
    svc = await startApp({ FIB_MAX_N: '2345678' });
    doc = (await request(svc.url).get('/docs-json').expect(200)).body;
  });
  afterAll(() => svc.close());

  it('documents every route the app serves', () => {
    const router = svc.app.getHttpAdapter().getInstance().router as { stack: ExpressLayer[] };
    const routes = router.stack
      .filter((layer) => layer.route && !layer.route.path.startsWith('/docs'))
      .flatMap((layer) => Object.keys(layer.route!.methods).map((method) => `${method.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`));
    expect(routes.length).toBeGreaterThanOrEqual(8);
    for (const route of routes) {
      const [method, path] = route.split(' ');
      const operation = doc.paths[path]?.[method.toLowerCase()];
      expect(operation, `${route} is missing from the document`).toBeDefined();
      expect(operation.summary, `${route} has no summary`).toBeTruthy();
      for (const [status, response] of Object.entries(operation.responses as Record<string, any>)) {
        expect(response.description, `${route} ${status}`).toBeTruthy();
      }
    }
  });

  it('takes the request schema from the validating schema, with configured limits', () => {
    const body = doc.paths['/fibonacci'].post.requestBody.content['application/json'].schema;
    expect(body.properties.numbers.items.maximum).toBe(2345678);
    expect(body.additionalProperties).toBe(false);
    const limit = doc.paths['/jobs/{id}/results'].get.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ minimum: 1, maximum: 10000, default: 1000 });
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Job', 'ResultsPage', 'Error', 'FibonacciResult']));
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await request(svc.url).get('/docs').redirects(1).expect(200);
    expect(res.text).toMatch(/swagger-ui/i);
  });

  it('example requests from the document succeed', async () => {
    const examples = doc.paths['/fibonacci'].post.requestBody.content['application/json'].examples as Record<string, { value: object }>;
    expect(Object.keys(examples).length).toBeGreaterThanOrEqual(2);
    for (const { value } of Object.values(examples)) {
      const res = await request(svc.url).post('/fibonacci?wait=10000').send(value).expect(200);
      const id = res.body.id;
      // Then every documented GET with an {id} answers 200 for that job.
      for (const [path, methods] of Object.entries(doc.paths)) {
        if (!methods.get || !path.includes('{id}')) continue;
        await request(svc.url).get(path.replace('{id}', id)).expect(200);
      }
      expect(res.body.results.total).toBeGreaterThan(0);
    }
  });
});

describe('OpenAPI with API keys on', () => {
  let svc: RunningApp;
  beforeAll(async () => {
    svc = await startApp({ API_KEYS: 'key-a-0123456789abcdef' });
  });
  afterAll(() => svc.close());

  it('is public (it holds the API shape and limits, nothing of any tenant) and says which routes need what', async () => {
    const { body: doc } = await request(svc.url).get('/docs-json').expect(200);
    await request(svc.url).get('/docs').redirects(1).expect(200);
    const keyed = ['POST /fibonacci', 'POST /crawl', 'GET /jobs', 'GET /jobs/{id}', 'DELETE /jobs/{id}', 'GET /jobs/{id}/results', 'GET /jobs/{id}/events', 'GET /pool'];
    for (const route of keyed) {
      const [method, path] = route.split(' ');
      const operation = doc.paths[path][method.toLowerCase()];
      expect(operation.security, route).toEqual([{ bearer: [] }]);
      expect(Object.keys(operation.responses), route).toEqual(expect.arrayContaining(['401', '429']));
    }
    for (const path of ['/health/live', '/health/ready']) expect(doc.paths[path].get.security, path).toEqual([]);
    expect(doc.paths['/health/ready'].get.responses['200'].content['application/json'].example.info.pool).toEqual({ status: 'up' });
    expect(doc.paths['/metrics'].get.description).toMatch(/METRICS_TOKEN/);
    expect(Object.keys(doc.paths['/metrics'].get.responses)).toEqual(expect.arrayContaining(['200', '401', '403']));
  });
});
