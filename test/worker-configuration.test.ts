/**
 * Issue 16, item 3: a Worker whose variables are missing or bad answers every path with a 503 problem naming them
 * (never a 500 stack, never a secret's value), but for the paths that need nothing: the contract, its page, liveness.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildServer } from './helpers/child-server.js';
import { ADMIN_TOKEN, validJob } from './helpers/test-app.js';
import { REDIS_URL, redisUnreachable } from './helpers/test-redis.js';
import { POSTGRES_URL } from './helpers/test-databases.js';
import { waitFor } from './helpers/wait-for.js';
import { startWorkerHost, startWranglerDev, type WorkerHost } from './helpers/worker-host.js';

const COMMITTED_CONTRACT = JSON.parse(readFileSync(new URL('../api/openapi.json', import.meta.url), 'utf8'));
const NEVER_A_STACK = /\n\s+at /;

async function problem(response: Response) {
  const text = await response.text();
  expect(text).not.toMatch(NEVER_A_STACK);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return JSON.parse(text) as { status: number; code: string; detail: string };
}

describe("a newcomer's `wrangler dev`, with no variables at all", () => {
  let worker: ChildServer | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'conductor-worker-bare-'));
    // An empty file, so that no .dev.vars or .env of the checkout is read either.
    const envFile = join(dir, '.env');
    writeFileSync(envFile, '');
    worker = await startWranglerDev('the Worker with no variables (wrangler dev)', envFile, join(dir, 'state'), [
      '--test-scheduled',
    ]);
  }, 120_000);
  afterAll(async () => {
    await worker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('serves the contract, its page and liveness, which need nothing', async () => {
    const contract = await fetch(`${worker!.url}/openapi.json`);
    expect(contract.status).toBe(200);
    expect(await contract.json()).toEqual(COMMITTED_CONTRACT);
    const page = await fetch(`${worker!.url}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/openapi.json');
    expect(await (await fetch(`${worker!.url}/livez`)).json()).toEqual({ status: 'ok' });
  });

  it('answers every other path 503 host_misconfigured, naming the variables and how to set them', async () => {
    const calls: [string, RequestInit][] = [
      ['/v1/jobs', {}],
      ['/v1/jobs', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }],
      [
        '/jobs/submit',
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ job: validJob(), script: 'true' }),
        },
      ],
      ['/no/such/path', {}],
    ];
    for (const [path, init] of calls) {
      const response = await fetch(`${worker!.url}${path}`, init);
      expect(response.status, path).toBe(503);
      const body = await problem(response);
      expect(body).toMatchObject({ status: 503, code: 'host_misconfigured' });
      for (const name of ['DATABASE_URL is not set', 'UPSTASH_REDIS_REST_URL is not set', 'UPSTASH_REDIS_REST_TOKEN'])
        expect(body.detail).toContain(name);
      expect(body.detail).toContain('wrangler secret put');
    }
  });

  it('answers the probes 503 in their own shapes: readiness says no more, health as the original', async () => {
    const ready = await fetch(`${worker!.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await problem(ready)).toMatchObject({
      code: 'not_ready',
      detail: 'This API process cannot serve requests now',
    });
    const health = await fetch(`${worker!.url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'unhealthy', service: 'scns-conductor-api' });
  });

  it('runs no reconciler: its Cron event logs one line naming the variables, and no stack', async () => {
    expect((await fetch(`${worker!.url}/__scheduled`)).status).toBe(200);
    const line = await waitFor('the Cron handler to log why it did not run', () =>
      worker!.stderrTail().find((text) => text.includes('reconciler not run')),
    );
    expect(line).toContain('DATABASE_URL is not set');
    expect(worker!.stderrTail().join('\n')).not.toMatch(NEVER_A_STACK);
  });
});

describe.skipIf(await redisUnreachable())('a Worker with bad variables', () => {
  let worker: WorkerHost | undefined;
  const password = 'hunter2-never-shown';
  beforeAll(async () => {
    worker = await startWorkerHost({
      databaseUrl: POSTGRES_URL,
      redisUrl: REDIS_URL,
      redisPrefix: 'test:worker-configuration:',
      adminToken: ADMIN_TOKEN,
      vars: {
        DATABASE_URL: `mysql://conductor:${password}@db.example/jobs`,
        CONDUCTOR_MAX_FOLLOWS: 'lots',
      },
    });
  }, 120_000);
  afterAll(() => worker?.stop(), 60_000);

  it('names each bad variable and what it must be, never the value', async () => {
    const response = await fetch(`${worker!.url}/v1/jobs`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.status).toBe(503);
    const body = await problem(response);
    expect(body.code).toBe('host_misconfigured');
    expect(body.detail).toContain('DATABASE_URL must be a postgres:// or postgresql:// URL');
    expect(body.detail).toContain('CONDUCTOR_MAX_FOLLOWS must be a whole number from 1 to 10000');
    expect(body.detail).not.toContain(password);
    expect((await fetch(`${worker!.url}/openapi.json`)).status).toBe(200);
  });
});

describe.skipIf(await redisUnreachable())('a Worker told to archive jobs with no log store to archive to', () => {
  let worker: WorkerHost | undefined;
  beforeAll(async () => {
    worker = await startWorkerHost({
      databaseUrl: POSTGRES_URL,
      redisUrl: REDIS_URL,
      redisPrefix: 'test:worker-configuration-archive:',
      adminToken: ADMIN_TOKEN,
      vars: { CONDUCTOR_ARCHIVE_JOBS: 'yes' },
      // wrangler.toml without its R2 binding, and no CONDUCTOR_S3_* variables: no store at all.
      args: ['--config', new URL('./fixtures/wrangler-s3.toml', import.meta.url).pathname],
    });
  }, 120_000);
  afterAll(() => worker?.stop(), 60_000);

  it('is misconfigured, naming CONDUCTOR_ARCHIVE_JOBS and what it needs', async () => {
    const response = await fetch(`${worker!.url}/v1/jobs`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.status).toBe(503);
    const body = await problem(response);
    expect(body.code).toBe('host_misconfigured');
    expect(body.detail).toContain('CONDUCTOR_ARCHIVE_JOBS is yes, but there is no log store to archive to');
  });
});
