import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('the OpenAPI contract', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ name: 'pglite', skip: undefined });
  });
  afterAll(() => t?.close());

  it('is exactly the committed api/openapi.json (run `npm run openapi` after a contract change)', async () => {
    const committed = JSON.parse(readFileSync(new URL('../api/openapi.json', import.meta.url), 'utf8'));
    const response = await t.call('GET', '/openapi.json', { token: null });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(committed);
  });

  it('is OpenAPI 3.1 and documents both the /v1 and the original paths', async () => {
    const document = await (await t.call('GET', '/openapi.json', { token: null })).json();
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/',
        '/dashboard',
        '/health',
        '/livez',
        '/readyz',
        '/metrics',
        '/jobs/cancel/{job_id}',
        '/jobs/query/{job_id}',
        '/jobs/submit',
        '/v1/jobs',
        '/v1/jobs/history.csv',
        '/v1/jobs/{id}',
        '/v1/jobs/{id}/cancel',
        '/v1/jobs/{id}/events',
        '/v1/jobs/{id}/hold',
        '/v1/jobs/{id}/release',
        '/v1/jobs/{id}/logs/{stream}',
        '/v1/jobs/{id}/why',
        '/v1/nodes',
        '/v1/nodes/{node}/heartbeat',
        '/v1/nodes/{node}/drain',
        '/v1/nodes/{node}/resume',
        '/v1/nodes/{node}/down',
        '/v1/nodes/{node}/claim',
        '/v1/nodes/{node}/confirm',
        '/v1/nodes/{node}/events',
        '/v1/partitions',
        '/v1/partitions/{name}',
        '/v1/stats',
        '/v1/stats/history',
        '/v1/accounts',
        '/v1/accounts/{name}',
        '/v1/dashboard',
        '/v1/events',
        '/v1/tokens',
        '/v1/tokens/{id}',
        '/v1/webhooks',
        '/v1/webhooks/{id}',
        '/v1/webhooks/{id}/deliveries',
        '/v1/webhooks/{id}/deliveries/{delivery}/redeliver',
      ].sort(),
    );
    expect(document.components.schemas.Problem).toBeDefined();
  });

  it('serves a reference page at /docs', async () => {
    const response = await t.call('GET', '/docs', { token: null });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('/openapi.json');
  });
});
