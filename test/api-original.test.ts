import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.js';
import { jobs, nodes } from '../shared/db/schema.js';
import { PostgresJobQueue } from '../shared/queue/postgres-job-queue.js';
import { ADMIN_TOKEN, createTestApp, validJob, type TestApp } from './helpers/test-app.js';
import { backends, createTestDatabase } from './helpers/test-databases.js';

/** The keys of a JSON value, recursively: the shape the original clients parse. */
function shape(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return typeof value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shape(inner)]));
}

for (const backend of await backends()) {
  describe.skipIf(backend.skip)(`original paths on ${backend.name}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(backend);
    });
    afterAll(() => t?.close());

    it('POST /jobs/submit answers 201 {"job_id": "<id>"} and nothing else', async () => {
      const response = await t.call('POST', '/jobs/submit', { body: { job: validJob(), script: '#!/bin/bash\ntrue' } });
      expect(response.status).toBe(201);
      const body = await response.json();
      expect(Object.keys(body)).toEqual(['job_id']);
      expect(body.job_id).toMatch(/^[1-9]\d*$/);
    });

    it('GET /jobs/query/{id} answers the original shape, field for field', async () => {
      const id = await t.submit(validJob({ name: 'q', current_working_directory: '/scratch/q' }));
      const response = await t.call('GET', `/jobs/query/${id}`);
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(shape(body)).toEqual({
        job_id: 'string',
        state: 'string',
        error_msg: 'object',
        time: {
          submit_time: 'string',
          eligible_time: 'string',
          start_time: 'object',
          end_time: 'object',
          elapsed_time: 'string',
          limit_time: 'string',
        },
        job_log: { stdout: 'object', stderr: 'object' },
        detail: {
          job_name: 'string',
          user: 'string',
          partition: 'string',
          allocated_cpus: 'number',
          allocated_nodes: 'number',
          node_list: 'string',
          exit_code: 'string',
          work_dir: 'string',
          data_source: 'string',
          account: 'string',
        },
      });
      expect(body).toMatchObject({
        job_id: id,
        state: 'PENDING',
        time: { elapsed_time: '0-00:00:00', limit_time: '1-02:03:04', start_time: null, end_time: null },
        detail: {
          job_name: 'q',
          partition: 'batch',
          account: 'physics',
          work_dir: '/scratch/q',
          exit_code: '0:0',
          allocated_cpus: 0,
        },
      });
      expect(body.time.submit_time).toMatch(/Z$/);
    });

    it('GET /jobs/query shows a finished job with its exit code, node and elapsed time', async () => {
      const id = Number(await t.submit());
      await t.database.db
        .update(jobs)
        .set({
          state: 'FAILED',
          nodeName: 'n7',
          exitStatus: 3,
          exitSignal: null,
          startTime: new Date('2026-01-01T00:00:00Z'),
          endTime: new Date('2026-01-02T01:02:03Z'),
          errorMsg: 'exit status 3',
        })
        .where(eq(jobs.id, id));
      const body = await (await t.call('GET', `/jobs/query/${id}`)).json();
      expect(body).toMatchObject({
        state: 'FAILED',
        error_msg: 'exit status 3',
        time: {
          elapsed_time: '1-01:02:03',
          start_time: '2026-01-01T00:00:00.000Z',
          end_time: '2026-01-02T01:02:03.000Z',
        },
        detail: { exit_code: '3:0', node_list: 'n7', allocated_cpus: 4, allocated_nodes: 1 },
      });
    });

    it('POST /jobs/cancel/{id} answers {"msg"} and is idempotent', async () => {
      const id = await t.submit();
      const first = await t.call('POST', `/jobs/cancel/${id}`);
      expect(first.status).toBe(200);
      const body = await first.json();
      expect(Object.keys(body)).toEqual(['msg']);
      expect(body.msg).toBe(`Job ${id} cancelled`);
      const second = await t.call('POST', `/jobs/cancel/${id}`);
      expect(second.status).toBe(200);
      expect((await second.json()).msg).toContain('already');
      expect((await t.call('POST', '/jobs/cancel/31337')).status).toBe(404);
    });

    it('GET /dashboard counts jobs and resources right, and lists pending jobs in queue order', async () => {
      const fresh = await createTestApp(backend);
      try {
        const { db } = fresh.database;
        await db.insert(nodes).values([
          { name: 'n1', partitions: ['batch'], cpus: 8, memoryMb: 32768, state: 'UP', lastHeartbeat: new Date() },
          { name: 'n2', partitions: ['batch', 'gpu'], cpus: 4, memoryMb: 16384, state: 'DRAINING' },
          { name: 'n3', partitions: ['batch'], cpus: 16, memoryMb: 65536, state: 'DOWN' },
        ]);
        const low = await fresh.submit(validJob({ priority: 0, name: 'low' }));
        const high = await fresh.submit(validJob({ priority: 10, name: 'high' }));
        const low2 = await fresh.submit(validJob({ priority: 0, name: 'low2' }));
        const mid = await fresh.submit(validJob({ priority: 5, name: 'mid' }));
        const run1 = Number(
          await fresh.submit(validJob({ cpus_per_task: 3, ntasks_per_node: 1, memory_per_node: '4G' })),
        );
        const run2 = Number(
          await fresh.submit(validJob({ cpus_per_task: 1, ntasks_per_node: 2, memory_per_node: '1G' })),
        );
        await db.update(jobs).set({ state: 'RUNNING', nodeName: 'n1', startTime: new Date() }).where(eq(jobs.id, run1));
        await db.update(jobs).set({ state: 'RUNNING', nodeName: 'n2', startTime: new Date() }).where(eq(jobs.id, run2));
        await fresh.call('POST', `/v1/jobs/${low2}/cancel`);

        const response = await fresh.call('GET', '/dashboard');
        expect(response.status).toBe(200);
        const body = await response.json();
        expect(body.jobs).toMatchObject({ total: 6, by_state: { PENDING: 3, RUNNING: 2, CANCELLED: 1, COMPLETED: 0 } });
        expect(body.resources).toEqual({
          nodes: { total: 3, up: 1, draining: 1, down: 1 },
          // DOWN nodes offer nothing; DRAINING ones take no new work, so only UP nodes' free cores are idle.
          cpus: { total: 12, allocated: 5, idle: 5 },
          memory_mb: { total: 49152, allocated: 5120, idle: 28672 },
        });
        expect(body.nodes.map((n: { name: string; cpus_allocated: number }) => [n.name, n.cpus_allocated])).toEqual([
          ['n1', 3],
          ['n2', 2],
          ['n3', 0],
        ]);
        expect(body.pending.map((j: { job_id: string }) => j.job_id)).toEqual([high, mid, low]);
        expect(body.running.map((j: { job_id: string }) => Number(j.job_id)).sort()).toEqual([run1, run2].sort());
        expect(body.running[0].elapsed_time).toMatch(/^0-00:00:\d\d$/);
      } finally {
        await fresh.close();
      }
    });

    it('GET /health answers 200 when the database answers, and 503 problem+json when it does not', async () => {
      const ok = await t.call('GET', '/health');
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ status: 'ok', database: 'ok' });

      const database = await createTestDatabase(backend);
      const app = createApp({ db: database.db, queue: new PostgresJobQueue(database.db), adminToken: ADMIN_TOKEN });
      await database.destroy();
      const down = await app.request('/health', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(down.status).toBe(503);
      expect(down.headers.get('content-type')).toBe('application/problem+json');
      expect(await down.json()).toMatchObject({ code: 'database_unavailable' });
    });
  });
}

describe('a database that went away', async () => {
  const [pglite] = await backends();
  it('makes every route answer 503 problem+json, not a 500', async () => {
    const database = await createTestDatabase(pglite!);
    const app = createApp({ db: database.db, queue: new PostgresJobQueue(database.db), adminToken: ADMIN_TOKEN });
    await database.destroy();
    const response = await app.request('/v1/jobs', {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ job: validJob(), script: 'true' }),
    });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'database_unavailable' });
  });
});
